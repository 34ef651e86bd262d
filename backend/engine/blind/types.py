"""Public value types and tuned constants of the blind deblurring core."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...blur_kernel import MAX_KERNEL_SIDE

#: Largest blur (kernel support, px, odd) searched for by default.
DEFAULT_KERNEL_SIZE: int = 75
#: Accepted range for ``max_kernel_size`` (values outside are clamped).
KERNEL_SIZE_RANGE: tuple[int, int] = (7, MAX_KERNEL_SIDE)
#: Tuned default deconvolution strength in [0, 1]: prior weight lambda = 60 * 25**strength
#: (0.8 -> ~790); strength below 0.2 also cross-fades to the input; 0 returns the input.
DEFAULT_STRENGTH: float = 0.8


@dataclass(frozen=True)
class BlurEstimate:
    """One camera-shake blur kernel for a region.

    kernel: float32 (k, k), k odd, non-negative, sums to 1, centred on its centroid.
    confident: False when the estimate is doubtful; ``deconvolve`` then stays conservative.
    score: agreement of two independent estimates in [0, 1] (higher = more trustworthy).
    fallback_strength: strength cap that ``deconvolve`` applies when not confident.
    strength_scale: factor in [0, 1] on the requested strength for moderately trusted
        estimates (1 for a kernel given from outside, e.g. a known true kernel).
    reason: short human-readable note on why the guard doubted (empty when confident).
    third_window: True when the first two windows disagreed and ``score`` is that of a
        pair with a third window: weaker evidence than two windows agreeing at once.
    """

    kernel: np.ndarray
    confident: bool
    score: float = 1.0
    fallback_strength: float = 0.0
    strength_scale: float = 1.0
    reason: str = ""
    third_window: bool = False


def identity_estimate(reason: str) -> BlurEstimate:
    """A delta kernel marked doubtful: deconvolving with it returns the input."""
    k = np.zeros((1, 1), np.float32)
    k[0, 0] = 1.0
    return BlurEstimate(kernel=k, confident=False, score=0.0, fallback_strength=0.0,
                        reason=reason)
