"""Cost of one training step of each OSDD stage: seconds, FLOPs and peak memory.

    .venv/bin/python benchmarks/train_step.py --weights DIR [--stages evae,synthetic]
        [--data SPEC] [--crop 256] [--batch 1] [--steps 3] [--precision no|bf16]
        [--gradient-checkpointing]

DIR is a weights folder (`osdd models make-random DIR --arch sd21` for SD 2.1 sizes);
SPEC a training data spec, by default synth: on ../shared/data/bench.
Each stage runs in its own process (so peak memory is its own) through the real
trainer: data loading, forward, losses (EA-DISTS, the discriminator), backward and the
optimizer steps. The first step is a warm-up and not timed; FLOPs are counted on one
step. TFLOP@512px is TFLOP/sample scaled to 512 px crops. It measures and prints; it
does not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BENCH = REPO.parent / "shared" / "data" / "bench"
DEFAULT_DATA = f"synth:{BENCH}"
# One word per title and GAP between cells even when a value outgrows its width, so a row
# splits on whitespace into as many values as the header has titles.
COLUMNS = ("stage", "device", "s/step", "TFLOP/sample", "TFLOP/s", "TFLOP@512px", "peak-GB")
WIDTHS = (10, 6, 7, 12, 9, 11, 7)
GAP = "  "


def row(cells) -> str:
    """The stage and device left-aligned, the figures right-aligned."""
    return GAP.join(f"{c:<{w}}" if i < 2 else f"{c:>{w}}"
                    for i, (c, w) in enumerate(zip(cells, WIDTHS, strict=True)))


def measure(args: argparse.Namespace, stage: str) -> dict:
    import torch
    from accelerate import Accelerator
    from torch.utils.flop_counter import FlopCounterMode

    from backend.train.config import TrainConfig
    from backend.train.loop import Trainer

    config = TrainConfig(stage=stage, base=str(args.weights), data=args.data,
                         crop=args.crop, batch=args.batch, workers=0, warmup=0,
                         mixed_precision=args.precision,
                         gradient_checkpointing=args.gradient_checkpointing)
    accelerator = Accelerator(mixed_precision=args.precision)
    with tempfile.TemporaryDirectory() as run:
        trainer = Trainer(config, Path(run), accelerator, echo=lambda _: None)
        batches = iter(trainer.loader(0, args.steps + 1))
        times, flops = [], 0
        for step in range(args.steps + 1):
            batch = next(batches)
            if accelerator.device.type == "cuda":
                torch.cuda.synchronize()
            started = time.perf_counter()
            if step == 1:
                with FlopCounterMode(display=False) as counter:
                    trainer.micro_step(step, batch)
                flops = counter.get_total_flops()
            else:
                trainer.micro_step(step, batch)
            if accelerator.device.type == "cuda":
                torch.cuda.synchronize()
            if step:
                times.append(time.perf_counter() - started)
    if accelerator.device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    timed = times[1:] or times  # the counted step runs slower under the counter
    return {"stage": stage, "device": str(accelerator.device), "s_per_step":
            sum(timed) / len(timed), "tflop_per_sample": flops / 1e12 / args.batch,
            "peak_gb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--stages", default="evae,synthetic")
    parser.add_argument("--data", default=DEFAULT_DATA,
                        help="training data spec (default: synth: on the shared bench photos)")
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--precision", default="no", choices=["no", "bf16", "fp16"])
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one stage
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args, args.one)))
        return
    if args.data == DEFAULT_DATA and not BENCH.is_dir():
        sys.exit(f"{BENCH} not found: pass --data SPEC, e.g. synth:DIR (a folder of sharp "
                 "photos) or paired:DIR")
    print(f"crop {args.crop}, batch {args.batch}, precision {args.precision}, "
          f"checkpointing {args.gradient_checkpointing}")
    print(row(COLUMNS))
    for stage in args.stages.split(","):
        done = subprocess.run([sys.executable, *sys.argv, "--one", stage],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"{stage:<10}{GAP}failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = r["tflop_per_sample"] * args.batch / r["s_per_step"]
        at_512 = r["tflop_per_sample"] * (512 / args.crop) ** 2
        print(row([stage, r["device"], f"{r['s_per_step']:.4g}", f"{r['tflop_per_sample']:.4g}",
                   f"{rate:.4g}", f"{at_512:.4g}", f"{r['peak_gb']:.2f}"]), flush=True)


if __name__ == "__main__":
    main()
