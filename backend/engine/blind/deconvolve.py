"""Non-blind deconvolution with a hyper-Laplacian gradient prior (|grad x|^0.8), solved by
half-quadratic splitting in the Fourier domain, on a padded, edge-tapered copy of the input so
that any rectangle (a tile) can be processed on its own; the padding is re-estimated as the
solve goes (``_refill``), so that only the observed pixels constrain the result and the light
the blur brought in from beyond the frame does not ring at its border. Then ringing is
removed where the blurred image shows that the sharp one must be flat (``edge_support``)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage, signal

from . import fftops as F
from .cg import conjugate_gradients

#: Exponent of the gradient prior. Natural photos' gradients are less sparse than a cartoon's:
#: on Levin's photos with the true kernel, 0.8 gave +0.3 dB over 2/3 on images 1-2 once the
#: border was solved (below), 0.75 +0.2; 0.5 was worse.
_ALPHA = 0.8
#: Data-fidelity weight at strength 0 and 1 (log-interpolated); larger = sharper, noisier.
_LAMBDA_RANGE = (60.0, 1500.0)
#: Noise level (per channel) the range above was tuned at, and the bounds on the factor
#: the data weight follows it by: lambda ~ 1/sigma, not 1/sigma^2 as for pure noise,
#: because the kernel is never exact and its error does not fall with the noise. On
#: Levin's photos (noise ~0.002) the true kernel gave 33.2 dB with this rule, 31.2 without
#: (before the border solve, alpha 0.8 and the finer beta steps, which make it 34.5).
_NOISE_REF = 0.01
_NOISE_FACTOR = (0.5, 6.0)
#: Below this strength the result is also cross-faded towards the input (0 = input).
_FADE_BELOW = 0.2
#: Edge map of the blurred image: Gaussian-derivative scale (px) and the gradient ramp from
#: "flat" to "edge"; 0.001 is about the gradient of 0.01 sensor noise at that scale, and a
#: 0.3 step smeared over 40 px still reaches 0.0075.
_EDGE_SIGMA = 1.5
_EDGE_GRAD = (0.001, 0.004)
#: Edge coverage of the kernel footprint at which the deconvolution is used in full.
_COVER_FULL = 0.5
#: Where the footprint is flat the output falls back to the input lightly smoothed (std, px):
#: the sharp image is flat there too, so this also removes noise rather than keeping it.
_FLAT_SMOOTH = 1.0
#: Splitting weights: from _BETA0 up to _BETA_MAX by factors of _BETA_RATE. Steps of 2
#: instead of 2.8 (9 steps, not 6; Levin true kernel +0.11 dB, images 1-2 +0.05, 3-4 +0.17):
#: the padding refill and the clipped CG follow the solution step by step.
_BETA0, _BETA_MAX, _BETA_RATE = 1.0, 256.0, 2.0
#: Observed values from which a pixel counts as clipped (8-bit 250 and up): the scene was
#: at least that bright there, maybe much brighter, so the blur model may not be held to it.
_CLIPPED = 0.98
#: With clipped pixels, the data term leaves them out (see _masked_solve): conjugate-gradient
#: steps per splitting step, and extra splitting steps at the final weight. With the true
#: kernel on photos with synthetic street lights (3-8x white): +1.5 to +1.8 dB with 3 steps
#: and no extra, +1.7 to +2.1 dB with 4 extra; the deconvolution of such a tile takes 3-5x
#: as long as without clipping. Holding the clipped pixels to their value, solved by FFT as
#: the rest, gained only +0.3 dB for 8 extra steps. The padding is left out of the data term
#: too (as _refill does without clipping): tests/engine/blind/test_clipped_highlights.py's
#: scene (18.2 dB unhandled) came out at 21.9 dB with alpha 2/3, the padding held and the
#: beta steps of 2.8x; now 22.7 (23.1 with 8 extra steps; 21.1 with steps of 2.8x, whose
#: larger system converged too slowly). That scene was blurred with a mirrored border,
#: which the old padding guessed exactly; a real frame's is not.
_CG_STEPS = 3
_CLIP_EXTRA = 4
#: Refills of the padding per splitting step, and their over-relaxation (see _refill). The
#: pixels within a kernel of the frame's border saw light from outside it; the tapered
#: reflection is a guess of that light, and holding the solution to it cost Levin's photos
#: (true kernel, images 1-2) 3x the interior's squared error near the border. Refilling:
#: 32.3 -> 32.8 dB with 1 step, 33.2 with 3, 33.35 with 3 over-relaxed by 1.8 (1.95: 33.36);
#: repeating the splitting steps at the final weight instead gained half as much per cost.
#: With the beta steps of 2 (above), 4 refills gained only +0.06 dB more.
_REFILL_STEPS = 3
_REFILL_OVERRELAX = 1.8


def shrink_hyper_laplacian(v: np.ndarray, beta: float, alpha: float = _ALPHA) -> np.ndarray:
    """Elementwise argmin_w |w|^alpha + beta/2 (w - v)^2 (generalised soft thresholding).

    In NumPy, not torch: torch's power splits the array over its threads and rounds the
    pieces' ends differently, so the result followed the thread count."""
    lam = 1.0 / beta
    tau = (2 * lam * (1 - alpha)) ** (1 / (2 - alpha)) \
        + lam * alpha * (2 * lam * (1 - alpha)) ** ((alpha - 1) / (2 - alpha))
    a = np.abs(v).astype(np.float32, copy=False)
    w = a.copy()
    t = np.empty_like(a)
    # Fixed-point w = |v| - lam*alpha*w^(alpha-1), started at |v|; converges in a few steps.
    # In place: this runs twice per splitting step on every pixel, and temporaries cost.
    for _ in range(3):
        np.maximum(w, np.float32(1e-6), out=t)
        np.power(t, np.float32(alpha - 1), out=t)
        t *= np.float32(lam * alpha)
        np.subtract(a, t, out=w)
    np.maximum(w, np.float32(0), out=w)
    w[a <= tau] = 0
    return np.copysign(w, v, out=w)


def _shrink(v: torch.Tensor, beta: float) -> torch.Tensor:
    return torch.from_numpy(shrink_hyper_laplacian(v.numpy(), beta))


def deconv_channel(img: np.ndarray, kernel: np.ndarray, lam: float) -> np.ndarray:
    """argmin_x lam/2 ||k*x - y||^2 + sum |grad x|^alpha for one 2-D channel in [0, 1],
    where the data term covers the observed pixels only (the blur mixed light from outside
    the frame into those near its border) and a clipped pixel bounds k*x from below only.

    In torch: with its FFTs and elementwise ops on every core, a 2 MP photo's deconvolution
    took 1.3-1.5x less time than in NumPy and scipy."""
    margin = kernel.shape[0]
    yp_np, inner = F.pad_periodic(img, margin, spectral=True)
    shape = yp_np.shape
    yp = F.tensor(yp_np)
    k_otf = F.tensor(F.psf2otf(kernel, shape))
    lam_conj_k = lam * k_otf.conj()
    gx, gy = (F.tensor(g) for g in F.grad_otfs(shape))
    num = F.cmul(lam_conj_k, torch.fft.rfft2(yp))
    den_k = lam * k_otf.abs().square()
    den_g = gx.abs().square() + gy.abs().square()
    outside = torch.ones(shape, dtype=torch.bool)
    outside[inner] = False
    clipped = (yp >= _CLIPPED) & ~outside
    clipped = clipped if bool(clipped.any()) else None
    x = yp
    for beta in _betas(extra=_CLIP_EXTRA if clipped is not None else 0):
        prior = beta * torch.fft.rfft2(F.div_t(_shrink(F.dx(x), beta), _shrink(F.dy(x), beta)))
        den = den_k + beta * den_g
        if clipped is None:
            yp, num = _refill(yp, num, outside, k_otf, lam_conj_k, prior, den, shape)
            x = torch.fft.irfft2((num + prior) / den, s=shape)
        else:
            x = _masked_solve(x, yp, clipped, outside, k_otf, lam, beta * den_g, prior, den,
                              shape)
    return x[inner].numpy()


def _refill(yp: torch.Tensor, num: torch.Tensor, outside: torch.Tensor,
            k_otf: torch.Tensor, lam_conj_k: torch.Tensor, prior: torch.Tensor,
            den: torch.Tensor, shape: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The padding's values replaced by the reblurred current solution, ``_REFILL_STEPS``
    times, over-relaxed: each replacement is an exact majorisation step of the data term
    restricted to the observed pixels (what the padding holds then costs nothing), so the
    FFT solve converges to the solve that leaves the unseen border free. ``num``: the data
    term's right-hand side, lam conj(K) Y, for ``yp``; returns both updated."""
    reblur = k_otf / den
    step = _REFILL_OVERRELAX * outside
    for _ in range(_REFILL_STEPS):
        change = torch.fft.irfft2(F.cmul(num + prior, reblur), s=shape)
        yp = yp + (change - yp) * step
        num = F.cmul(lam_conj_k, torch.fft.rfft2(yp))
    return yp, num


def _masked_solve(x: torch.Tensor, yp: torch.Tensor, clipped: torch.Tensor,
                  outside: torch.Tensor, k_otf: torch.Tensor, lam: float, reg: torch.Tensor,
                  prior: torch.Tensor, den: torch.Tensor, shape: tuple[int, int]
                  ) -> torch.Tensor:
    """The x step with the data term on the pixels that hold information only: a clipped
    pixel only says "at least this bright", so it counts only where the current estimate
    reblurs darker than it; the padding (``outside``) says nothing. Holding every clipped
    pixel to its clipped value instead makes the solver explain the missing light with dark
    rings around each highlight. Conjugate gradients from ``x``, preconditioned by the
    unmasked solve (``den``: its spectrum), which is exact where nothing is masked. ``reg``
    and ``prior``: the splitting term's operator and right-hand side, in the Fourier
    domain."""
    rfft2, irfft2 = torch.fft.rfft2, torch.fft.irfft2
    reblurred = irfft2(F.cmul(k_otf, rfft2(x)), s=shape)
    held = ~outside & (~clipped | (reblurred < yp))
    lam_conj_k = lam * k_otf.conj()
    b = irfft2(F.cmul(lam_conj_k, rfft2(held * yp)) + prior, s=shape)

    def apply(v):
        vf = rfft2(v)
        kv = irfft2(F.cmul(k_otf, vf), s=shape)
        return irfft2(F.cmul(lam_conj_k, rfft2(held * kv)) + reg * vf, s=shape)

    def precondition(r):
        return irfft2(rfft2(r) / den, s=shape)

    return conjugate_gradients(apply, b, x, _CG_STEPS, precondition)


def _betas(extra: int) -> list[float]:
    """The splitting weights, rising geometrically, then ``extra`` more at the last one."""
    betas = [_BETA0]
    while betas[-1] * _BETA_RATE <= _BETA_MAX:
        # A Python float: a NumPy float64 weight would lift the float32 spectra to double
        # precision (NumPy 2 promotion), which made the inverse FFTs 3x slower.
        betas.append(float(betas[-1] * _BETA_RATE))
    return betas + [betas[-1]] * extra


def lambda_for(strength: float, noise: float = _NOISE_REF) -> float:
    """Data weight for a strength in [0, 1] and the image's noise std (per channel)."""
    lo, hi = _LAMBDA_RANGE
    factor = float(np.clip(_NOISE_REF / max(noise, 1e-6), *_NOISE_FACTOR))
    return float(lo * (hi / lo) ** strength) * factor


def deconvolve_image(image: np.ndarray, kernel: np.ndarray, strength: float,
                     noise: float = _NOISE_REF) -> np.ndarray:
    """Deconvolve each channel of HxWxC float32 [0, 1]; strength in [0, 1] and the noise
    std pick the prior weight (and it fades to the input below ``_FADE_BELOW``). Returns
    float32, same shape, clipped to [0, 1]."""
    image = image.astype(np.float32, copy=False)
    if strength <= 0 or kernel.size == 1:
        return np.clip(image, 0.0, 1.0)
    lam = lambda_for(strength, noise)
    out = np.empty_like(image)
    for c in range(image.shape[2]):
        out[..., c] = deconv_channel(image[..., c], kernel, lam)
    w = edge_support(image.mean(axis=2), kernel)[..., None]
    flat = ndimage.gaussian_filter(image, (_FLAT_SMOOTH, _FLAT_SMOOTH, 0))
    out = flat + w * (out - flat)
    fade = min(1.0, strength / _FADE_BELOW)
    if fade < 1.0:
        out = image + fade * (out - image)
    return np.clip(out, 0.0, 1.0)


def edge_support(luma: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Weight in [0, 1] per pixel: 1 where the sharp image may have structure.

    A sharp edge at p spreads gradient over p + support(kernel) in the blurred image; where
    that footprint of the blurred image is flat, the sharp image is flat too, and anything
    deconvolution puts there is ringing (ghosts of nearby edges, a kernel length away)."""
    g = ndimage.gaussian_gradient_magnitude(luma.astype(np.float32), _EDGE_SIGMA)
    lo, hi = _EDGE_GRAD
    edges = np.clip((g - lo) / (hi - lo), 0.0, 1.0)
    k = kernel.astype(np.float32) / float(kernel.sum())
    # correlation with the kernel: the mass-weighted fraction of the footprint with edges
    cover = signal.fftconvolve(np.pad(edges, kernel.shape[0] // 2, mode="reflect"),
                               k[::-1, ::-1], mode="valid")
    return np.clip(cover / _COVER_FULL, 0.0, 1.0).astype(np.float32)
