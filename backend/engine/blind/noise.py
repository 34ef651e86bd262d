"""Sensor-noise level of an image, so that the priors can follow it: a clean photo (the Levin
benchmark's noise is about 0.002) wants a weak prior, a noisy one (1 % noise) a strong one.

Immerkaer's estimator (1996): a 3x3 mask that is the difference of two Laplacians cancels
smooth image content up to second order, so what remains is noise; its median absolute
value (robust to the edges that survive) gives the standard deviation. Blurred images have
little fine structure, which makes the estimate good exactly where we need it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
#: The mask's response to white noise of std 1 has std 6 (sqrt of the squared weights' sum).
_GAIN = 6.0
#: Median of |N(0, 1)|.
_MAD = 0.6745
#: Share of clipped pixels from which a photo is deconvolved as if it had 1 % noise. The
#: deconvolution leaves clipped pixels out of its data term, but a photo clipped that much is
#: usually a contrasty JPEG whose estimated kernel is rough, and the weak prior a clean
#: photo would get rings all over (the licence-plate photo, 7 % clipped: stripes a kernel
#: long across the car, still with the clipped pixels left out).
_CLIPPED_SHARE = 0.01
_CLIPPED_NOISE = 0.01
#: Pixels looked at, at most: a centred crop keeps the cost flat on 100 MP photos.
_MAX_SIDE = 2048


def noise_level(image: np.ndarray) -> float:
    """Standard deviation of the noise of HxW or HxWxC float [0, 1]: the median over
    channels (the channels' noise differs little; one odd channel must not decide)."""
    img = np.asarray(image, np.float32)
    if img.ndim == 2:
        img = img[..., None]
    h, w = img.shape[:2]
    if min(h, w) < 8:
        return 0.0
    top, left = max(0, (h - _MAX_SIDE) // 2), max(0, (w - _MAX_SIDE) // 2)
    img = img[top: top + _MAX_SIDE, left: left + _MAX_SIDE]
    levels = []
    for c in range(img.shape[2]):
        channel = img[..., c]
        response = ndimage.convolve(channel, _MASK)[1:-1, 1:-1]
        # Clipped pixels carry no noise: leave them out rather than read them as clean.
        live = (channel[1:-1, 1:-1] > 0.01) & (channel[1:-1, 1:-1] < 0.99)
        values = np.abs(response[live]) if live.mean() > 0.05 else np.abs(response).ravel()
        levels.append(float(np.median(values)) / (_MAD * _GAIN))
    return float(np.median(levels))


def prior_noise(image: np.ndarray) -> float:
    """The noise level the deconvolution prior is set from: ``noise_level``, raised to 1 %
    for photos with many clipped pixels (HxW or HxWxC float [0, 1])."""
    img = np.asarray(image, np.float32)
    sigma = noise_level(img)
    extreme = img.max(axis=-1) if img.ndim == 3 else img
    if float(np.mean(extreme > 0.98)) > _CLIPPED_SHARE:
        sigma = max(sigma, _CLIPPED_NOISE)
    return sigma
