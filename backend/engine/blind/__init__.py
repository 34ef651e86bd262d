"""Classical blind motion deblurring core: one camera-shake kernel per region (coarse-to-fine,
L0 gradient prior), hyper-Laplacian non-blind deconvolution, and a do-no-harm guard.

Layouts: luminance float32 HxW in [0, 1]; images float32 HxWxC (C = 1 or 3) in [0, 1].
"""

from .api import deconvolve, estimate_blur
from .noise import noise_level, prior_noise
from .types import DEFAULT_KERNEL_SIZE, DEFAULT_STRENGTH, KERNEL_SIZE_RANGE, BlurEstimate

__all__ = ["BlurEstimate", "DEFAULT_KERNEL_SIZE", "DEFAULT_STRENGTH", "KERNEL_SIZE_RANGE",
           "deconvolve", "estimate_blur", "noise_level", "prior_noise"]
