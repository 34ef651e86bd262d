"""Do-no-harm guard: flags doubtful kernels so that deconvolution stays conservative.

Camera shake is shared by the whole frame, so the kernel is estimated twice, on two windows
with different content, and the two must agree (up to a shift). Failures (periodic facades,
long sparse trajectories, flat images) are unstable and give disagreeing kernels. Calibrated
on ~40 bench pairs (quick set + full-set pairs): pairs below agreement ~0.78 were mostly
harmed or barely helped at the default strength but helped at strength 0.1; between 0.75 and
0.95 a proportionally reduced strength (from 0 at 0.75) was as good on average and safer.
"""

from __future__ import annotations

import numpy as np

from .types import BlurEstimate


def agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Max normalised cross-correlation of two kernels over all relative shifts, in [0, 1]."""
    n = a.shape[0] + b.shape[0]
    fa = np.fft.rfft2(a.astype(np.float64), (n, n))
    fb = np.fft.rfft2(b.astype(np.float64), (n, n))
    c = np.fft.irfft2(fa * np.conj(fb), (n, n))
    den = np.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float(c.max() / den) if den > 0 else 0.0


def thickness(kernel: np.ndarray) -> float:
    """Pixels above 5 % of the peak per pixel of extent (larger bounding-box side)."""
    ys, xs = np.nonzero(kernel > 0.05 * kernel.max())
    if ys.size == 0:
        return 0.0
    extent = max(int(np.ptp(ys)), int(np.ptp(xs))) + 1
    return float(ys.size / extent)


#: Below this agreement the estimate is doubtful (not confident).
_DOUBT_BELOW = 0.78
#: Agreement from which the requested strength is used in full.
_FULL_FROM = 0.95
#: Strength cap for doubtful estimates (below 0.2 deconvolve also fades to the input).
_FALLBACK_STRENGTH = 0.1


def assess(kernel: np.ndarray, check: np.ndarray | None) -> BlurEstimate:
    """Wrap a kernel into a BlurEstimate; ``check`` is an independent estimate from another
    window (None when the image offered no second usable window: then we stay cautious)."""
    kernel = kernel.astype(np.float32)
    agree = agreement(kernel, check) if check is not None else 0.8
    scale = float(np.clip((agree - 0.75) / (_FULL_FROM - 0.75), 0.0, 1.0))
    if agree < _DOUBT_BELOW:
        return BlurEstimate(kernel=kernel, confident=False, score=agree,
                            fallback_strength=_FALLBACK_STRENGTH, strength_scale=scale,
                            reason=f"two windows disagree on the kernel (agreement {agree:.2f})")
    return BlurEstimate(kernel=kernel, confident=True, score=agree,
                        fallback_strength=_FALLBACK_STRENGTH, strength_scale=scale)
