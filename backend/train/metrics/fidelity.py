"""PSNR and SSIM as the project's benchmark protocol reports them (scikit-image's
definitions, data range 1, SSIM averaged over channels), without needing scikit-image."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

_K1, _K2 = 0.01, 0.03


def _as_pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    """HxW or HxWxC arrays (or CPU/GPU tensors of that layout) as float64 numpy arrays."""
    a, b = (np.asarray(v.detach().cpu() if hasattr(v, "detach") else v, np.float64)
            for v in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"expected an HxW or HxWxC image, got shape {a.shape}")
    return a, b


def psnr(a, b, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB; inf for identical images."""
    a, b = _as_pair(a, b)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def ssim(a, b, data_range: float = 1.0, win_size: int = 7) -> float:
    """Mean SSIM with a uniform win_size window and sample covariances, borders excluded,
    averaged over channels: scikit-image's structural_similarity with its defaults."""
    a, b = _as_pair(a, b)
    if min(a.shape[:2]) < win_size or win_size % 2 == 0:
        raise ValueError(f"SSIM needs an odd window no larger than the image: {win_size} "
                         f"for {a.shape[:2]}")
    size = (win_size, win_size) + (1,) * (a.ndim - 2)  # never mix channels

    def local_mean(image: np.ndarray) -> np.ndarray:
        return uniform_filter(image, size=size, mode="reflect")

    mean_a, mean_b = local_mean(a), local_mean(b)
    unbiased = win_size**2 / (win_size**2 - 1)  # sample, not population, (co)variances
    var_a = unbiased * (local_mean(a * a) - mean_a**2)
    var_b = unbiased * (local_mean(b * b) - mean_b**2)
    cov = unbiased * (local_mean(a * b) - mean_a * mean_b)
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    index = ((2 * mean_a * mean_b + c1) * (2 * cov + c2)
             / ((mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2)))
    pad = (win_size - 1) // 2  # windows that reach past the border are left out
    return float(index[pad:-pad, pad:-pad].mean())
