"""`osdd bench`: time the osdd engine stage by stage, side by side across dtypes and
adapter modes, each configuration in its own process (clean peak memory). Prints; never
passes or fails on time. Not part of the model package: it runs the engine through
DeblurService like any caller; torch loads inside the measuring child."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_COLUMNS = ("config", "load s", "encode ms", "unet ms", "decode ms", "ms/tile", "MP/s",
            "peak GB")


def add_commands(sub) -> None:
    bench = sub.add_parser("bench", help="time the osdd engine: stages, ms per tile, MP/s, "
                                         "peak memory")
    bench.add_argument("--weights", type=Path,
                       help="weights folder (default: a tiny random model made on the fly)")
    bench.add_argument("--device", default="auto")
    bench.add_argument("--dtypes", default="fp32,bf16",
                       help="comma-separated dtypes to compare (fp32, bf16, fp16)")
    bench.add_argument("--fuse", default="fused,unfused",
                       help="adapter modes to compare: fused, unfused or both")
    bench.add_argument("--tile", type=int, default=512, help="tile side in pixels")
    bench.add_argument("--batch", type=int, default=1, help="tiles per pass")
    bench.add_argument("--repeats", type=int, default=3)
    bench.add_argument("--image", type=int, default=0,
                       help="also time a whole N x N image through the engine and tiling")
    bench.add_argument("--flops", action="store_true",
                       help="count FLOPs per tile (one extra pass) and compare with the "
                            "device's measured bf16 matmul peak")
    bench.set_defaults(run=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    """Run every dtype x adapter-mode configuration and print one table."""
    with tempfile.TemporaryDirectory(prefix="osdd-bench-") as tmp:
        weights = args.weights
        if weights is None:
            from ..engine.osdd.building import make_model

            weights = Path(tmp) / "tiny"
            make_model(weights, "tiny")
            print(f"no --weights: using a tiny random model ({weights})", file=sys.stderr)
        rows = []
        dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
        modes = [m.strip() for m in args.fuse.split(",") if m.strip()]
        for n, (dtype, mode) in enumerate((d, m) for d in dtypes for m in modes):
            job = {"weights": str(weights), "device": args.device, "dtype": dtype,
                   "fuse": mode == "fused", "tile": args.tile, "batch": args.batch,
                   "repeats": args.repeats, "image": args.image,
                   "flops": args.flops and n == 0}
            print(f"measuring {dtype} {mode} ...", file=sys.stderr)
            rows.append(_in_subprocess(job))
    print(format_table(rows, args))
    return 0


def _in_subprocess(job: dict) -> dict:
    done = subprocess.run([sys.executable, "-m", __name__, json.dumps(job)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"config": f"{job['dtype']} {'fused' if job['fuse'] else 'unfused'}",
                "error": tail[0]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict], args: argparse.Namespace) -> str:
    extra = ["image MP/s"] if args.image else []
    lines = [f"osdd engine, {args.tile} px tiles, batch {args.batch}, median of "
             f"{args.repeats}" + (f", whole image {args.image}x{args.image}" if args.image
                                  else ""), ""]
    header = [*_COLUMNS, *extra]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['config']} | failed: {row['error']} |")
            continue
        cells = [row["config"], f"{row['load_s']:.1f}", f"{row['encode_ms']:.1f}",
                 f"{row['unet_ms']:.1f}", f"{row['decode_ms']:.1f}",
                 f"{row['tile_ms']:.1f}", f"{row['mp_per_s']:.3g}", f"{row['peak_gb']:.2f}"]
        if args.image:
            cells.append(f"{row['image_mp_per_s']:.3g}")
        lines.append("| " + " | ".join(cells) + " |")
    for row in rows:
        if "tflop_per_tile" in row:
            lines += ["", f"FLOPs per {args.tile} px tile: {row['tflop_per_tile'] * 1e3:.4g} "
                      f"GFLOP (device: {row['device']})"]
            if row.get("peak_tflops"):
                lines.append(f"measured bf16 matmul peak: {row['peak_tflops']:.0f} TFLOP/s")
    first = next((r for r in rows if "tflop_per_tile" in r), None)
    if first and first.get("peak_tflops"):
        for row in rows:
            if "tile_ms" in row:
                rate = first["tflop_per_tile"] / (row["tile_ms"] / 1e3)  # tile_ms is per tile
                lines.append(f"{row['config']}: {rate:.1f} TFLOP/s achieved, "
                             f"{100 * rate / first['peak_tflops']:.1f} % of the bf16 peak")
    return "\n".join(lines)


def _measure(job: dict) -> dict:
    """One configuration, in this process."""
    import numpy as np
    import torch

    from ..engine.osdd.engine import OsddEngine
    from ..jobs.service import DeblurService
    from ..types import JobSpec

    engine = OsddEngine(Path(job["weights"]), job["device"], job["dtype"], job["fuse"])
    cuda = engine.device.startswith("cuda")

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    started = time.perf_counter()
    engine.load()
    sync()
    row = {"config": f"{job['dtype']} {'fused' if job['fuse'] else 'unfused'}",
           "device": engine.device, "load_s": time.perf_counter() - started}
    pipe, gamma = engine.pipeline, engine.gamma_range[1]
    generator = torch.Generator().manual_seed(0)
    tile = torch.rand(job["batch"], 3, job["tile"], job["tile"], generator=generator)
    stages: dict[str, list[float]] = {"encode": [], "unet": [], "decode": []}
    with torch.no_grad():
        pipe(tile, gamma)  # warm-up at this size
        for _ in range(job["repeats"]):
            sync()
            t0 = time.perf_counter()
            latent, features = pipe.encode(tile)
            sync()
            t1 = time.perf_counter()
            clean = pipe.denoise(latent, gamma)
            sync()
            t2 = time.perf_counter()
            pipe.decode(clean, features)
            sync()
            t3 = time.perf_counter()
            for name, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                stages[name].append(seconds * 1e3 / job["batch"])
    for name, values in stages.items():
        row[f"{name}_ms"] = statistics.median(values)
    row["tile_ms"] = sum(row[f"{n}_ms"] for n in stages)
    row["mp_per_s"] = job["tile"] ** 2 / 1e6 / (row["tile_ms"] / 1e3)
    if job["image"]:
        side = job["image"]
        image = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
        service = DeblurService([engine])
        t0 = time.perf_counter()
        params = {"tile_size": job["tile"], "overlap": job["tile"] // 8}
        service.deblur(JobSpec(image, "osdd", params))
        sync()
        row["image_mp_per_s"] = side * side / 1e6 / (time.perf_counter() - t0)
    if job["flops"]:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as counter:
            pipe(tile[:1], gamma)
        row["tflop_per_tile"] = counter.get_total_flops() / 1e12
        if cuda:
            row["peak_tflops"] = _matmul_peak(engine.device)
    if cuda:
        row["peak_gb"] = torch.cuda.max_memory_allocated() / 1e9
    else:
        row["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return row


def _matmul_peak(device: str, size: int = 8192, repeats: int = 20) -> float:
    """Measured bf16 matmul throughput of the device in TFLOP/s (the practical peak)."""
    import torch

    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * size ** 3 * repeats / (time.perf_counter() - t0) / 1e12


if __name__ == "__main__":
    print(json.dumps(_measure(json.loads(sys.argv[1]))))
