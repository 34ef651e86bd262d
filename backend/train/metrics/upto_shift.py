"""Scoring "up to shift", the protocol of Levin et al. 2009 (their comp_upto_shift.m).

A blind method may return the photo displaced by a fraction of a pixel (the kernel is only
known up to a translation), so the benchmark crops 15 px from every side of the sharp image
and looks for the sub-pixel shift of the output (steps of 0.25 px, up to 5 px, bilinear)
that minimises the squared error there. PSNR, SSIM and the error ratio are taken at that
shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .fidelity import psnr, ssim

CROP = 15
MAX_SHIFT = 5.0
STEP = 0.25


@dataclass(frozen=True)
class ShiftScore:
    psnr: float
    ssim: float
    sse: float                 # sum of squared errors at the best shift (the ratio's unit)
    shift: tuple[float, float]  # (dy, dx) of the output that matched best


def _shifted(image: np.ndarray, dy: float, dx: float, shape: tuple[int, int]) -> np.ndarray:
    """Output sampled at (row + CROP + dy, col + CROP + dx) over the cropped frame."""
    rows, cols = np.mgrid[:shape[0], :shape[1]].astype(np.float64)
    return ndimage.map_coordinates(image, (rows + CROP + dy, cols + CROP + dx), order=1,
                                   mode="nearest")


def score_upto_shift(output: np.ndarray, sharp: np.ndarray) -> ShiftScore:
    """Score a grey HxW ``output`` against the ``sharp`` truth (same size, [0, 1])."""
    output = np.asarray(output, np.float64)
    sharp = np.asarray(sharp, np.float64)
    if output.shape != sharp.shape or output.ndim != 2:
        raise ValueError(f"expected two grey images of one size, got {output.shape} and "
                         f"{sharp.shape}")
    if min(sharp.shape) <= 2 * (CROP + MAX_SHIFT):
        raise ValueError(f"image {sharp.shape} too small for the up-to-shift protocol")
    ref = sharp[CROP:-CROP, CROP:-CROP]
    steps = np.arange(-MAX_SHIFT, MAX_SHIFT + STEP / 2, STEP)

    def sse(dy: float, dx: float) -> float:
        return float(((_shifted(output, dy, dx, ref.shape) - ref) ** 2).sum())

    # Integer shifts first, then the quarter steps around the best one: the error is smooth
    # in the shift, and this visits 81 + 81 shifts instead of 1681.
    whole = [(dy, dx) for dy in steps[::4] for dx in steps[::4]]
    by, bx = min(whole, key=lambda s: sse(*s))
    near = [(dy, dx) for dy in steps if abs(dy - by) <= 1 for dx in steps if abs(dx - bx) <= 1]
    best = min(near, key=lambda s: sse(*s))
    aligned = _shifted(output, *best, ref.shape)
    return ShiftScore(psnr(aligned, ref), ssim(aligned, ref), sse(*best), best)
