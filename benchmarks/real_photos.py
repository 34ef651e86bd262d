"""Deblur the photos with real motion blur (no ground truth) through the classical engine
and write before|after pictures for a visual check (the README shows them), the estimated
kernel inset at the after side's bottom right.

    .venv/bin/python benchmarks/real_photos.py [--data ../shared/data] [--out docs/images]

Each photo runs through DeblurService exactly as the server runs it (tiling included).
Prints seconds per photo and whether the engine trusted its blur estimate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from backend.blur_kernel import kernel_to_pixels
from backend.engine.classical import ClassicalEngine
from backend.images import read_image, side_by_side, to_uint8, write_image
from backend.jobs.service import DeblurService
from backend.types import Done, JobSpec, Progress, TileResult

INSET = 96  # px: the kernel, enlarged, in the after picture's corner

REPO = Path(__file__).resolve().parents[1]
PHOTOS = ("licenseplate_motion.jpg", "text_motion.jpg", "clock_motion.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    missing = [name for name in PHOTOS if not (args.data / "real" / name).is_file()]
    if missing:
        sys.exit(f"{args.data / 'real'} lacks {', '.join(missing)}: pass --data DIR, the "
                 "folder holding real/")
    args.out.mkdir(parents=True, exist_ok=True)
    service = DeblurService([ClassicalEngine()])
    for name in PHOTOS:
        image = read_image(args.data / "real" / name)
        started = time.perf_counter()
        result, note, kernel = np.empty_like(image), "", None
        for event in service.run(JobSpec(image, "classical")):
            if isinstance(event, TileResult):
                result[event.region.slices] = event.pixels
            elif isinstance(event, Progress) and event.message:
                note = event.message
            elif isinstance(event, Done):
                kernel = event.kernel
        seconds = time.perf_counter() - started
        target = args.out / f"{Path(name).stem}_before_after.jpg"
        picture = side_by_side(image, result)
        if kernel is not None and kernel.shape[0] > 1:
            with_inset(picture, kernel)
        write_image(target, picture, quality=90)
        print(f"{name:<26} {image.shape[1]}x{image.shape[0]}  {seconds:5.1f} s  "
              f"{note or 'kernel trusted'}  -> {target}")


def with_inset(picture: np.ndarray, kernel: np.ndarray) -> None:
    """Paste the kernel (nearest-neighbour enlarged, white frame) into the bottom right."""
    grey = to_uint8(kernel_to_pixels(kernel))[:, :, 0]
    scale = max(1, INSET // grey.shape[0])
    big = np.kron(grey, np.ones((scale, scale), np.uint8))
    side = big.shape[0]
    picture[-side - 6:-2, -side - 6:-2] = 255
    picture[-side - 4:-4, -side - 4:-4] = big[:, :, None]


if __name__ == "__main__":
    main()
