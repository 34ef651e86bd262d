"""Deblur the photos with real motion blur (no ground truth) through the classical engine
and write before|after pictures for a visual check (the README shows them).

    .venv/bin/python benchmarks/real_photos.py [--data ../shared/data] [--out docs/images]

Each photo runs through DeblurService exactly as the server runs it (tiling included).
Prints seconds per photo and whether the engine trusted its blur estimate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from backend.engine.classical import ClassicalEngine
from backend.engine.service import DeblurService
from backend.images import read_image, side_by_side, write_image
from backend.types import JobSpec

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
        result, note = service.deblur(JobSpec(image, "classical"))
        seconds = time.perf_counter() - started
        target = args.out / f"{Path(name).stem}_before_after.jpg"
        write_image(target, side_by_side(image, result), quality=90)
        print(f"{name:<26} {image.shape[1]}x{image.shape[0]}  {seconds:5.1f} s  "
              f"{note or 'kernel trusted'}  -> {target}")


if __name__ == "__main__":
    main()
