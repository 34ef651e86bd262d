"""Helpers shared by the blind-core tests: known kernel, metrics."""

from __future__ import annotations

import numpy as np


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
