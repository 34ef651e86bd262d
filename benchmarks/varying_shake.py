"""Spatially varying shake: a large photo whose left and right halves are blurred by
different kernels, deblurred with one kernel for the whole photo and with a kernel per
grid cell (what the classical engine does), side by side.

Photos are made here (grey scenes of rectangles and disks, as the tests use), kernels are
the bench's random-walk generator, so the figures need no data folder:

    python benchmarks/varying_shake.py [--photos 2] [--side 1400]

Prints per photo the PSNR (dB) of the blurred input, of one kernel (``estimate_blur``)
and of the per-cell blend (``estimate_shake``), the estimation time of each, and the grid.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.engine.blind import (  # noqa: E402
    BlurField,
    deconvolve,
    deconvolve_at,
    estimate_blur,
    estimate_shake,
)
from backend.train.data.kernels import random_kernel  # noqa: E402
from backend.train.data.protocol import protocol_blur_varying  # noqa: E402
from tests.engine.blind._helpers import psnr, shapes_photo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=2)
    ap.add_argument("--side", type=int, default=1400)
    ap.add_argument("--kernel", type=int, default=41, help="kernel side, px")
    a = ap.parse_args()
    print(f"{'photo':<8}{'blurred':>9}{'one kernel':>12}{'per cell':>10}"
          f"{'est. s (one / cells)':>24}  grid")
    for seed in range(a.photos):
        sharp = shapes_photo(a.side, seed=seed)
        left = random_kernel(np.random.default_rng([a.kernel, seed + 1]), (a.kernel,) * 2)
        blurred = protocol_blur_varying(sharp, left, np.rot90(left).copy(), seed=seed)
        t0 = time.perf_counter()
        one = estimate_blur(blurred)
        t1 = time.perf_counter()
        field = estimate_shake(blurred)
        t2 = time.perf_counter()
        grid = (f"{field.rows}x{field.cols}, {field.own_kernels} own" if
                isinstance(field, BlurField) else "one kernel")
        print(f"{seed:<8}{psnr(blurred, sharp):>9.2f}{psnr(deconvolve(blurred, one), sharp):>12.2f}"
              f"{psnr(deconvolve_at(blurred, (0, 0), field, 0.8), sharp):>10.2f}"
              f"{t1 - t0:>13.1f} / {t2 - t1:<8.1f}  {grid}", flush=True)


if __name__ == "__main__":
    main()
