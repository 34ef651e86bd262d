"""The device scheduler measured side by side in one run (prints, never asserts):

- throughput of 1 vs 2 CPU workers on one large photo (classical engine: its analysis is
  one step, its tiles are shared by the workers);
- how long a small job waits behind a large one, with jobs taken in turn tile batch by
  tile batch (the default) and with one job at a time (--max-running 1, the old FIFO).

    .venv/bin/python benchmarks/scheduling.py [--megapixels 12] [--workers 2]

The photo is scikit-image's astronaut, tiled up to the size asked and blurred by a 25 px
camera shake from the project's kernel generator.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.engine.classical import ClassicalEngine  # noqa: E402
from backend.jobs.queue import JobQueue  # noqa: E402
from backend.jobs.service import DeblurService  # noqa: E402
from backend.train.data.kernels import random_kernel  # noqa: E402
from backend.train.data.protocol import protocol_blur  # noqa: E402
from backend.types import Done, JobSpec, Limits, TileResult  # noqa: E402


def shaken_photo(megapixels: float) -> np.ndarray:
    from skimage import data

    tile = data.astronaut().astype(np.float32) / 255
    side = int(np.sqrt(megapixels * 1e6))
    reps = -(-side // tile.shape[0])
    sharp = np.tile(tile, (reps, reps, 1))[:side, :side]
    kernel = random_kernel(np.random.default_rng(3), (25, 25))
    blurred = protocol_blur(sharp, kernel, np.random.default_rng(4))
    return (np.clip(blurred, 0, 1) * 255).astype(np.uint8)


def run(jobs: JobQueue, image: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Seconds to finish, the result, and the engine's own seconds."""
    started = time.perf_counter()
    out = np.array(image)
    engine = 0.0
    for event in jobs.submit(JobSpec(image, "classical")):
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
        elif isinstance(event, Done):
            engine = event.engine_seconds
    return time.perf_counter() - started, out, engine


def queue(workers: int, max_running: int) -> JobQueue:
    limits = Limits(max_concurrent_jobs=max_running)
    jobs = JobQueue(DeblurService([ClassicalEngine()], limits), 8, workers=workers)
    jobs.start()
    return jobs


def small_behind_large(max_running: int, large: np.ndarray, small: np.ndarray) -> float:
    jobs = queue(1, max_running)
    waiter = threading.Thread(target=run, args=(jobs, large))
    waiter.start()
    time.sleep(1.0)  # the large job is past its first steps
    seconds, _, _ = run(jobs, small)
    waiter.join()
    jobs.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    image = shaken_photo(args.megapixels)
    print(f"photo {image.shape[1]}x{image.shape[0]} ({image.shape[0] * image.shape[1] / 1e6:.1f}"
          " MP), classical engine, defaults", flush=True)
    times, outputs = {}, {}
    for workers in (1, args.workers):
        jobs = queue(workers, 4)
        times[workers], outputs[workers], engine = run(jobs, image)
        jobs.close()
        print(f"{workers} worker(s): {times[workers]:6.1f} s ({engine:.1f} s of engine time)",
              flush=True)
    same = np.array_equal(outputs[1], outputs[args.workers])
    print(f"speed-up {times[1] / times[args.workers]:.2f}x with {args.workers} workers; "
          f"results identical: {same}")
    small = image[:256, :256].copy()
    fifo = small_behind_large(1, image, small)
    turns = small_behind_large(4, image, small)
    print(f"a 256x256 job submitted 1 s after the large one finishes after: {turns:5.1f} s "
          f"taking turns (default), {fifo:5.1f} s one job at a time (--max-running 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
