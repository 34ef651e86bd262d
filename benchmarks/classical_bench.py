"""Benchmark of the classical blind deblurring core on the project's bench protocol.

    .venv/bin/python benchmarks/classical_bench.py --set quick [--data DIR] [--pairs 0:3,5:1]
        [--photos aloeL,building]

Prints, per image: blurred input, unsharp masking, this engine (blind), this engine's
deconvolution with the TRUE kernel (upper bound), as PSNR / SSIM, plus the blind engine's
seconds per megapixel; then the mean row and the end-to-end s/MP on a ~2 MP photo.
Protocol: the data folder's README.md (``--data``). It measures and prints; it does not pass/fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.engine.blind import BlurEstimate, deconvolve  # noqa: E402
from backend.engine.classical import ClassicalEngine  # noqa: E402
from backend.jobs.service import DeblurService  # noqa: E402
from backend.train.data.bench import BenchPairs  # noqa: E402
from backend.train.data.pixels import load_rgb  # noqa: E402
from backend.train.data.protocol import protocol_blur  # noqa: E402
from backend.types import JobSpec  # noqa: E402

SERVICE = DeblurService([ClassicalEngine()])


def restore(blurred_rgb: np.ndarray, **params: float) -> tuple[np.ndarray, str]:
    """Blind deblur of float32 HxWx3 in [0, 1] exactly as the server runs it (DeblurService,
    tiling included). ``params`` are the engine's (strength, kernel_size, tile_size, overlap).
    Returns the image and the engine's note ("" when it trusted its kernel)."""
    return SERVICE.deblur(JobSpec(blurred_rgb, "classical", params))


def unsharp(img: np.ndarray, sigma: float = 2.0, amount: float = 1.0) -> np.ndarray:
    soft = ndimage.gaussian_filter(img, (sigma, sigma, 0))
    return np.clip(img + amount * (img - soft), 0, 1).astype(np.float32)


def scores(ref: np.ndarray, img: np.ndarray) -> tuple[float, float]:
    return (peak_signal_noise_ratio(ref, img, data_range=1),
            structural_similarity(ref, img, data_range=1, channel_axis=2))


def run_case(sharp: np.ndarray, blurred: np.ndarray, kernel: np.ndarray) -> dict[str, object]:
    t = time.perf_counter()
    blind, note = restore(blurred)
    dt = time.perf_counter() - t
    truth = deconvolve(blurred, BlurEstimate(kernel=kernel, confident=True))
    return {"blurred": scores(sharp, blurred), "unsharp": scores(sharp, unsharp(blurred)),
            "blind": scores(sharp, blind), "true_k": scores(sharp, truth),
            "s_per_mp": dt / (sharp.shape[0] * sharp.shape[1] / 1e6),
            "guard": note}


def print_summary(rows: list[dict[str, object]], cols: tuple[str, ...]) -> None:
    """The mean row under a table of run_case rows, then the blind gain and the harm count."""
    mean = "".join(f"{np.mean([r[c][0] for r in rows]):>9.2f} /"
                   f"{np.mean([r[c][1] for r in rows]):.3f}" for c in cols)
    print(f"{'mean':<24}{mean}{np.mean([r['s_per_mp'] for r in rows]):>12.2f}")
    gain = np.mean([r["blind"][0] - r["blurred"][0] for r in rows])
    worse = sum(r["blind"][0] < r["blurred"][0] or r["blind"][1] < r["blurred"][1]
                for r in rows)
    print(f"blind mean gain {gain:+.2f} dB; cases worse than blurred (PSNR or SSIM): {worse}")


def time_2mp(sharp: np.ndarray, kernel: np.ndarray) -> tuple[float, float]:
    """Seconds per MP on the photo upscaled to ~1700x1200, end to end through the service,
    and its PSNR gain (dB) over the blurred input."""
    big = np.clip(ndimage.zoom(sharp, (1200 / sharp.shape[0], 1700 / sharp.shape[1], 1),
                               order=1), 0, 1).astype(np.float32)
    blurred = protocol_blur(big, kernel, 0)
    mp = big.shape[0] * big.shape[1] / 1e6
    t = time.perf_counter()
    restored, _ = restore(blurred)
    seconds = time.perf_counter() - t
    return seconds / mp, scores(big, restored)[0] - scores(big, blurred)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=("quick", "full"), default="quick")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--pairs", default="", help="explicit image:kernel pairs, e.g. 0:3,5:1")
    ap.add_argument("--photos", default="",
                    help="only these photos (file stems, comma-separated), e.g. the full "
                         "set's calibration half: aloeL,building,butterfly,fruits")
    ap.add_argument("--no-2mp", action="store_true", help="skip the 2 MP timing")
    a = ap.parse_args()
    if not (a.data / "bench" / "kernels.npz").is_file():
        sys.exit(f"{a.data / 'bench'} is not a bench folder: pass --data DIR, the folder "
                 "holding bench/ (its photos and kernels.npz)")
    cases = [tuple(int(v) for v in p.split(":")) for p in a.pairs.split(",")] if a.pairs \
        else None
    bench = BenchPairs(a.data / "bench", full=a.set == "full", cases=cases)
    if a.photos:
        wanted = set(a.photos.split(","))
        unknown = wanted - {p.stem for p in bench.photos}
        if unknown:
            sys.exit(f"no bench photo named {', '.join(sorted(unknown))}; the bench has "
                     + ", ".join(p.stem for p in bench.photos))
        bench.cases = [c for c in bench.cases if bench.photos[c[0]].stem in wanted]
    cols = ("blurred", "unsharp", "blind", "true_k")
    print(f"{'image':<14}{'kernel':<10}" + "".join(f"{c:>16}" for c in cols)
          + f"{'blind s/MP':>12}  engine note")
    rows = []
    for index, (i, k) in enumerate(bench.cases):
        r = run_case(*bench.arrays(index))
        rows.append(r)
        cells = "".join(f"{r[c][0]:>9.2f} /{r[c][1]:.3f}" for c in cols)
        print(f"{bench.photos[i].stem:<14}{bench.names[k]:<10}{cells}{r['s_per_mp']:>12.2f}"
              f"  {r['guard']}", flush=True)
    print_summary(rows, cols)
    if not a.no_2mp:
        middle = len(bench.kernels) // 2
        s, gain = time_2mp(load_rgb(bench.photos[0]), bench.kernels[middle])
        print(f"2 MP photo (1700x1200, {bench.photos[0].stem}, {bench.names[middle]}) end to "
              f"end: {s:.2f} s/MP, {gain:+.2f} dB")


if __name__ == "__main__":
    main()
