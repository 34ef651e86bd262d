"""Helpers shared by the blind-core tests: known kernel, metrics."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def line_kernel(size: int = 11) -> np.ndarray:
    """A bent motion path: known, non-symmetric, small."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, 1:c + 1] = 1.0
    k[np.arange(c, size - 2), np.arange(c, size - 2)] = 1.0
    return k / k.sum()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)


def shapes_photo(size: int = 256, seed: int = 0) -> np.ndarray:
    """Grey piecewise-constant scene of random rectangles and disks: the step edges that
    camera-shake estimation feeds on, made here rather than read from anywhere."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size), 0.5, np.float32)
    yy, xx = np.mgrid[:size, :size]
    for _ in range(60):
        value = rng.uniform(0.1, 0.9)
        y, x, r = rng.integers(0, size, 2).tolist() + [int(rng.integers(4, size // 6))]
        if rng.random() < 0.5:
            img[max(0, y - r): y + r, max(0, x - r // 2): x + r] = value
        else:
            img[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = value
    return ndimage.gaussian_filter(img, 0.6)
