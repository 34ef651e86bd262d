"""Non-blind deconvolution with a hyper-Laplacian gradient prior (|grad x|^(2/3)), solved by
half-quadratic splitting in the Fourier domain, on a padded, edge-tapered copy of the input so
that any rectangle (a tile) can be processed on its own without border ringing."""

from __future__ import annotations

import numpy as np

from . import fftops as F

_ALPHA = 2.0 / 3.0
#: Data-fidelity weight at strength 0 and 1 (log-interpolated); larger = sharper, noisier.
_LAMBDA_RANGE = (60.0, 1500.0)
#: Below this strength the result is also cross-faded towards the input (0 = input).
_FADE_BELOW = 0.2
_BETA0, _BETA_MAX, _BETA_RATE = 1.0, 256.0, 2.0 * np.sqrt(2.0)


def shrink_hyper_laplacian(v: np.ndarray, beta: float, alpha: float = _ALPHA) -> np.ndarray:
    """Elementwise argmin_w |w|^alpha + beta/2 (w - v)^2 (generalised soft thresholding)."""
    lam = 1.0 / beta
    tau = (2 * lam * (1 - alpha)) ** (1 / (2 - alpha)) \
        + lam * alpha * (2 * lam * (1 - alpha)) ** ((alpha - 1) / (2 - alpha))
    a = np.abs(v)
    keep = a > tau
    w = a.copy()
    # Fixed-point w = |v| - lam*alpha*w^(alpha-1), started at |v|; converges in a few steps.
    for _ in range(3):
        w = a - lam * alpha * np.power(np.maximum(w, 1e-6), alpha - 1)
    return np.where(keep, np.sign(v) * np.maximum(w, 0), 0).astype(np.float32)


def deconv_channel(img: np.ndarray, kernel: np.ndarray, lam: float) -> np.ndarray:
    """argmin_x lam/2 ||k*x - y||^2 + sum |grad x|^alpha for one 2-D channel in [0, 1]."""
    margin = kernel.shape[0]
    yp, inner = F.pad_periodic(img, margin)
    shape = yp.shape
    k_otf = F.psf2otf(kernel, shape)
    gx, gy = F.grad_otfs(shape)
    num0 = lam * np.conj(k_otf) * F.rfft2(yp)
    den_k = (lam * np.abs(k_otf) ** 2).astype(np.float32)
    den_g = (np.abs(gx) ** 2 + np.abs(gy) ** 2).astype(np.float32)
    x = yp
    beta = _BETA0
    while beta <= _BETA_MAX:
        wx = shrink_hyper_laplacian(F.dx(x), beta)
        wy = shrink_hyper_laplacian(F.dy(x), beta)
        num = num0 + beta * F.rfft2(F.div_t(wx, wy))
        x = F.irfft2(num / (den_k + beta * den_g), shape)
        beta *= _BETA_RATE
    return x[inner]


def lambda_for(strength: float) -> float:
    lo, hi = _LAMBDA_RANGE
    return float(lo * (hi / lo) ** strength)


def deconvolve_image(image: np.ndarray, kernel: np.ndarray, strength: float) -> np.ndarray:
    """Deconvolve each channel of HxWxC float32 [0, 1]; strength in [0, 1] picks the prior
    weight (and fades to the input below ``_FADE_BELOW``). Returns float32, same shape,
    clipped to [0, 1]."""
    image = image.astype(np.float32, copy=False)
    if strength <= 0 or kernel.size == 1:
        return np.clip(image, 0.0, 1.0)
    lam = lambda_for(strength)
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        out[..., c] = deconv_channel(image[..., c], kernel, lam)
    fade = min(1.0, strength / _FADE_BELOW)
    if fade < 1.0:
        out = image + fade * (out - image)
    return np.clip(out, 0.0, 1.0)
