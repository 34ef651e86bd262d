"""Helpers shared by the blind-core tests: known kernel, protocol blur, metrics."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def line_kernel(size: int = 11) -> np.ndarray:
    """A bent motion path: known, non-symmetric, small."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, 1:c + 1] = 1.0
    k[np.arange(c, size - 2), np.arange(c, size - 2)] = 1.0
    return k / k.sum()


def blur(img: np.ndarray, kernel: np.ndarray, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """Per-channel symmetric-boundary 'same' convolution + Gaussian noise, clipped, 8-bit."""
    r = kernel.shape[0] // 2
    chans = img[..., None] if img.ndim == 2 else img
    out = np.stack([fftconvolve(np.pad(chans[..., c], r, mode="symmetric"), kernel, "valid")
                    for c in range(chans.shape[2])], axis=-1)
    out += np.random.default_rng(seed).normal(0, noise, out.shape)
    out = (np.round(np.clip(out, 0, 1) * 255) / 255).astype(np.float32)
    return out[..., 0] if img.ndim == 2 else out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def luma(rgb: np.ndarray) -> np.ndarray:
    return (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32)
