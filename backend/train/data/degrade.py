"""The synthetic degradation: a sharp photo through camera shake (one kernel, or several
blended by smooth masks), sensor noise, highlight clipping and JPEG re-compression.

Blur, highlights and noise act on linear light, as in a camera; the result is encoded
back to 8-bit sRGB-like values before the JPEG step."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.signal import fftconvolve

from ...errors import ConfigError
from ...images import to_uint8
from .kernels import KERNEL_SIZES, odd_sizes, random_kernel

_GAMMA = 2.2  # a plain power law stands in for the camera's tone curve


@dataclass(frozen=True)
class SynthSettings:
    """What the generator draws from. Noise is Poisson-Gaussian on linear values in [0, 1]:
    variance = shot * x + read**2, both drawn log-uniformly; at mid grey the defaults give
    about 0.3 % to 3 % noise in the 8-bit output, the range of ordinary photos."""

    kernel_sizes: tuple[int, int] = KERNEL_SIZES
    varying_share: float = 0.3  # part of the samples with spatially varying blur
    varying_kernels: tuple[int, int] = (2, 4)
    shot_noise: tuple[float, float] = (4e-5, 4e-3)
    read_noise: tuple[float, float] = (2e-4, 3e-3)
    highlight_gain: tuple[float, float] = (0.0, 1.0)
    quality_range: tuple[int, int] = (70, 95)

    def __post_init__(self) -> None:
        odd_sizes(self.kernel_sizes)
        lo, hi = self.quality_range
        if not 1 <= lo <= hi <= 100:
            raise ConfigError(f"JPEG quality range must lie within 1-100 with min <= max, "
                              f"got {lo},{hi}")
        if not (2 <= self.varying_kernels[0] <= self.varying_kernels[1]
                and 0 <= self.varying_share <= 1):
            raise ConfigError("spatially varying blur needs 2 or more kernels and a share "
                              "in [0, 1]")

    @property
    def margin(self) -> int:
        """Pixels beyond a crop whose content reaches into it through the widest kernel."""
        return odd_sizes(self.kernel_sizes)[1] // 2


DEFAULT_SETTINGS = SynthSettings()


def synthesize(sharp: np.ndarray, rng: np.random.Generator,
               settings: SynthSettings = DEFAULT_SETTINGS) -> tuple[np.ndarray, dict]:
    """Blur `sharp` (HxWx3 float in [0, 1]) with random camera shake and degrade it like a
    photo. Returns the float32 result (8-bit values, same size; the image border is
    extended symmetrically) and what was drawn: kernels, sizes, whether the blur varies
    over the image, its mask grid, noise levels, highlight gain and JPEG quality.
    The result depends only on `sharp`, `settings` and the state of `rng`."""
    s = settings
    varying = bool(rng.random() < s.varying_share)
    count = int(rng.integers(s.varying_kernels[0], s.varying_kernels[1] + 1)) if varying else 1
    kernels = [random_kernel(rng, s.kernel_sizes) for _ in range(count)]
    grid = rng.normal(size=(count, *_grid_shape(sharp.shape))) * rng.uniform(1.0, 3.0)
    gain = float(rng.uniform(*s.highlight_gain))
    shot, read = (float(np.exp(rng.uniform(*np.log(r)))) for r in (s.shot_noise, s.read_noise))
    quality = int(rng.integers(s.quality_range[0], s.quality_range[1] + 1))

    linear = boost_highlights(np.asarray(sharp, np.float32) ** np.float32(_GAMMA), gain)
    blurred = blur_with(linear, kernels)
    if varying:
        masks = smooth_masks(grid, sharp.shape[:2])
        blurred = np.einsum("khw,khwc->hwc", masks, blurred)
    else:
        blurred = blurred[0]
    # Poisson-Gaussian in its Gaussian form (variance shot * x + read^2): at photo signal
    # levels the photon counts are large enough for it, and it costs far less than Poisson.
    sigma = np.sqrt(np.float32(shot) * np.clip(blurred, 0, None) + np.float32(read ** 2))
    noisy = blurred + rng.standard_normal(blurred.shape, np.float32) * sigma
    encoded = np.clip(noisy, 0, 1) ** np.float32(1 / _GAMMA)
    info = {"kernel_sizes": [k.shape[0] for k in kernels], "kernels": kernels,
            "varying": varying, "mask_grid": grid if varying else None,
            "shot_noise": shot, "read_noise": read, "highlight_gain": gain,
            "jpeg_quality": quality}
    return jpeg_roundtrip(encoded, quality), info


def boost_highlights(linear: np.ndarray, gain: float) -> np.ndarray:
    """Push near-white pixels past 1 so that, once blurred and clipped, light sources
    smear into saturated streaks as they do in real shaken photos; the rest is untouched."""
    peak = linear.max(axis=2, keepdims=True)
    ramp = np.clip((peak - 0.9) / 0.1, 0, 1)
    return linear * (1 + np.float32(gain) * ramp * ramp)


def blur_with(image: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
    """`image` convolved with each kernel ("same" size, symmetric border), stacked."""
    out = np.empty((len(kernels), *image.shape), np.float32)
    for n, kernel in enumerate(kernels):
        r = kernel.shape[0] // 2
        padded = np.pad(image, ((r, r), (r, r), (0, 0)), mode="symmetric")
        out[n] = fftconvolve(padded, kernel[:, :, None], mode="valid", axes=(0, 1))
    return out


def smooth_masks(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Blending weights (count x H x W) from a coarse random grid (count x gh x gw): the grid
    is interpolated with cubic splines to full size and normalised with a softmax, so the
    weights are positive, change slowly over the image and sum to one at every pixel."""
    rows, cols = _spline_matrix(shape[0], grid.shape[1]), _spline_matrix(shape[1], grid.shape[2])
    fields = (rows @ grid @ cols.T).astype(np.float32)
    weights = np.exp(fields - fields.max(axis=0))
    return weights / weights.sum(axis=0)


def _spline_matrix(size: int, cells: int) -> np.ndarray:
    """size x cells matrix that interpolates `cells` samples to `size` (a cubic spline
    zoom is linear and separable, so zooming the identity gives its matrix; applying it
    costs far less than zooming each full-size field)."""
    return ndimage.zoom(np.eye(cells), (size / cells, 1), order=3, mode="nearest",
                        grid_mode=True)[:size]


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """`image` (float in [0, 1]) rounded to 8 bits, JPEG-encoded at `quality` and decoded."""
    pixels = to_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), np.float32) / 255


def _grid_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """About three mask cells along the long side: blur changes over the frame, not
    within an object."""
    cell = max(shape[0], shape[1]) / 3
    return max(2, round(shape[0] / cell)), max(2, round(shape[1] / cell))
