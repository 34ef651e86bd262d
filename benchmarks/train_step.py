"""Cost of one training step of each OSDD stage: seconds, FLOPs and peak memory.

    .venv/bin/python benchmarks/train_step.py --weights DIR [--stages evae,synthetic]
        [--crop 256] [--batch 1] [--steps 3] [--precision no|bf16] [--gradient-checkpointing]

DIR is a weights folder (`osdd models make-random DIR --arch sd21` for SD 2.1 sizes).
Each stage runs in its own process (so peak memory is its own) through the real
trainer: data loading, forward, losses (EA-DISTS, the discriminator), backward and the
optimizer steps. The first step is a warm-up and not timed; FLOPs are counted on one
step. It measures and prints; it does not pass/fail.
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
    parser.add_argument("--data", default=f"synth:{BENCH}")
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
    print(f"crop {args.crop}, batch {args.batch}, precision {args.precision}, "
          f"checkpointing {args.gradient_checkpointing}")
    print(f"{'stage':<10}{'device':<8}{'s/step':>9}{'TFLOP/sample':>14}{'TFLOP/s':>9}"
          f"{'x (512/crop)^2':>16}{'peak GB':>9}")
    for stage in args.stages.split(","):
        done = subprocess.run([sys.executable, *sys.argv, "--one", stage],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"{stage:<10}failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = r["tflop_per_sample"] * args.batch / r["s_per_step"]
        at_512 = r["tflop_per_sample"] * (512 / args.crop) ** 2
        print(f"{stage:<10}{r['device']:<8}{r['s_per_step']:>9.2f}"
              f"{r['tflop_per_sample']:>14.4g}{rate:>9.4g}{at_512:>16.4g}"
              f"{r['peak_gb']:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
