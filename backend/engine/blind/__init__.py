"""Classical blind motion deblurring core: one camera-shake kernel per region (coarse-to-fine,
L0 gradient prior; a grid of them where the shake varies across a large photo),
hyper-Laplacian non-blind deconvolution, and a do-no-harm guard.

Layouts: luminance float32 HxW in [0, 1]; images float32 HxWxC (C = 1 or 3) in [0, 1].
"""

from .api import deconvolve, estimate_blur
from .field import BlurField, deconvolve_at, estimate_shake
from .noise import noise_level, prior_noise
from .types import DEFAULT_KERNEL_SIZE, DEFAULT_STRENGTH, KERNEL_SIZE_RANGE, BlurEstimate

__all__ = ["BlurEstimate", "BlurField", "DEFAULT_KERNEL_SIZE", "DEFAULT_STRENGTH",
           "KERNEL_SIZE_RANGE", "deconvolve", "deconvolve_at", "estimate_blur",
           "estimate_shake", "noise_level", "prior_noise"]
