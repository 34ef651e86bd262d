"""Public entry points: ``estimate_blur`` (once per image/region) and ``deconvolve`` (per tile)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from .crop import crop_size_for, textured_windows
from .deconvolve import deconvolve_image
from .estimate import estimate_kernel
from .guard import DOUBT_BELOW, agreement, assess, drop_unshared
from .noise import noise_level, prior_noise
from .types import (
    DEFAULT_KERNEL_SIZE,
    DEFAULT_STRENGTH,
    KERNEL_SIZE_RANGE,
    BlurEstimate,
    identity_estimate,
)

#: Gaussian pre-smoothing (px) of the estimation crop, the main defence against sensor noise
#: (+2.4 dB on the bench's 1 % noise), and the luma noise levels between which it ramps from
#: none to full. Only a really clean photo goes without (Levin's, at ~0.0019, gain 0.6 dB
#: from less): the bundled clock photo, at 0.0039, needs the full smoothing for its two
#: windows to agree.
_PRESMOOTH = 0.8
_PRESMOOTH_NOISE = (0.0015, 0.003)
#: Edges kept per orientation bin and kernel pixel (see estimate.select_edges) on a clean
#: photo; it grows with the noise ramp above, because averaging over more gradients is
#: what beats noise (at the bench's 1 % noise, selecting cost 0.5 dB; on Levin's clean
#: photos it gained 0.7 dB).
_EDGES = 2.0
#: Image side per kernel side the estimate needs at least, and the side per kernel side
#: at which it is stable: on a smaller image a support that large lets noise and texture
#: into the kernel (Levin's 255 px photos: 27.9 dB searching 51 px, 30.3 dB at 31), so the
#: tighter support is tried first and the larger one only when the blur fills it.
_CONTEXT = 5
_STABLE_CONTEXT = 8
#: Initial weight of the L0 gradient prior of the intermediate image on a clean and on a
#: noisy photo, and the luma noise levels between which it ramps: a weaker prior lets
#: finer edges guide the kernel, which the clean Levin photos (noise 0.0019, from 8-bit
#: rounding) reward (tuned on im1-2: 32.4 -> 32.8 dB; im3-4: 32.1 -> 32.7) and 1 % noise
#: punishes (the bench's quick set: +4.5 dB at 2e-3, +3.9 at 1e-3).
_L0_WEIGHT = (1e-3, 2e-3)
_L0_NOISE = (0.002, 0.006)
#: Weight of the kernel's L2 penalty on a clean and on a noisy photo, ramped over the same
#: noise levels: a clean photo's gradients pin the kernel well enough for a weaker penalty,
#: which lets a faint arm of the trajectory through (Levin's kernel 6, upper arm; tuned on
#: im1-2: 32.21 dB and 94 % of error ratios <= 2 at 20, 32.52 and 100 % at 10; im3-4:
#: 33.16 -> 33.30 dB, 81 % both). The landscape is rough (7 and 14 scored 32.17 and 32.19 on
#: im1-2), so the value is no finer than a factor of two. At the bench's and CC0 set's 1 %
#: noise (luma noise 0.0067-0.0078) the penalty stays 20 and their results do not move.
_KERNEL_WEIGHT = (10.0, 20.0)
#: Share of its support a kernel may span before it counts as truncated; and how much
#: smaller the tight support must be to be worth a try (a few pixels less changes nothing
#: but the luck of the estimate).
_FILLED = 0.9
_MUCH_TIGHTER = 0.75
#: Support tried before a larger requested one: most shake is shorter, and a support much
#: longer than the blur lets texture into the kernel (the bench's quick set at 75 px
#: directly: +2.76 dB and one photo worse, against +3.05 at 61); a doubtful or truncated
#: estimate goes on to the full size.
_FIRST_SUPPORT = 61
#: Agreement a smaller-support retry must reach: a second chance needs a clear consensus.
_RETRY_AGREEMENT = 0.92
#: Strength below which a doubtful kernel is not used at all: faded to a few percent over
#: the input it cannot sharpen visibly, but the faint copy of a misplaced or wrong kernel
#: can still lower SSIM (Levin's im4 x kernel 7 at agreement 0.753: strength 0.012, PSNR
#: +0.14 dB, SSIM -0.004).
_DOUBTFUL_NO_EFFECT = 0.02
#: Gradient (per px) that counts as an edge for the second, checking window, and for the
#: first: a long blur lowers every gradient (a step of 0.5 spread over 57 px rises 0.009 per
#: px), so the first window only needs faint edges (0.01 is still 4x the noise gradients at
#: the bench's 1 % after pre-smoothing, 10x on a clean photo). The full set's aloeL and fruits
#: x 57 px were left untouched as "too flat" at 0.02 and now gain 2.2 and 3.1 dB (calibration
#: half; no other pair of the full, quick, CC0 or Levin sets takes another path). Faint
#: edges do not make a good check: counting a second window at 0.01 lost 1.6-3.5 dB where a
#: good first estimate met a noisy second (home x 57 px, CC0 rocket x 59 and 71 px).
_EDGE = 0.02
_FAINT_EDGE = 0.01
#: Alternations per pyramid level in the retry (8 was too few to confirm the clock sample).
_RETRY_ITERS = 12


def estimate_blur(luma: np.ndarray, max_kernel_size: int = DEFAULT_KERNEL_SIZE,
                  should_stop: Callable[[], bool] = lambda: False) -> BlurEstimate:
    """Estimate one blur kernel for ``luma`` (float32 HxW in [0, 1], any size).

    ``max_kernel_size`` (px, clamped to KERNEL_SIZE_RANGE, made odd) bounds the blur searched
    for; it is also reduced to fit tiny images. Works on the most textured window (a few
    kernels wide), so the cost does not grow with the image. Deterministic. Raises
    Cancelled within one alternation of ``should_stop`` turning True.
    """
    luma = np.asarray(luma, dtype=np.float32)
    if luma.ndim == 3:
        luma = luma.mean(axis=2)
    if luma.ndim != 2 or min(luma.shape) < 16 or not np.isfinite(luma).all():
        return identity_estimate("image too small or invalid")
    lo, hi = KERNEL_SIZE_RANGE
    requested = int(np.clip(max_kernel_size, lo, hi))
    ks = min(requested, min(luma.shape) // _CONTEXT)
    ks = ks + 1 - ks % 2
    # The photo, not the caller's limit, bounds the search: no larger support can show
    # whether a kernel reaching this one's edge is a longer blur or a wrong estimate.
    capped = ks < requested
    if ks < 5:
        return identity_estimate("image too small for a kernel")
    prior = prior_for(luma)
    tight = min(ks, min(luma.shape) // _STABLE_CONTEXT) | 1
    smaller: list[BlurEstimate] = []  # estimates on smaller supports that were not kept
    # Smaller-support estimates that would have been kept had their agreement not needed
    # a third window: the full size is tried too, and the better agreement wins.
    held: list[BlurEstimate] = []
    if 15 <= tight <= _MUCH_TIGHTER * min(ks, _FIRST_SUPPORT):
        first = estimate_at(luma, tight, prior, should_stop)
        # Kept unless the blur fills the tight support (then it is longer, and the tight
        # kernel is truncated) or its two windows disagree.
        if first.confident and extent(first.kernel) <= _FILLED * tight:
            if not first.third_window:
                return first
            held.append(first)
        smaller.append(first)
    shorter = None
    if _FIRST_SUPPORT < ks:
        shorter = estimate_at(luma, _FIRST_SUPPORT, prior, should_stop)
        # Kept unless doubtful or reaching its edge (a longer blur, truncated: the CC0
        # camera x 71 px gave a kernel that reaches the edge without piling mass there).
        # Not the tight support's "fills it" test: a blur of 51 px fills 90 % of 61, and
        # the estimate at 75 was worse (the bench's messi5: 17.5 dB against 22.4, input
        # 17.6).
        if shorter.confident and not reaches_edge(shorter.kernel):
            if not shorter.third_window:
                return shorter
            held.append(shorter)
        smaller.append(shorter)
    est = estimate_at(luma, ks, prior, should_stop)
    at_edge = touches_border(est.kernel) or capped and reaches_edge(est.kernel)
    if held:
        best = max(held, key=lambda e: e.score)
        if not (est.confident and not at_edge and est.score > best.score):
            return best
    if est.confident and at_edge:
        # Piled against the edge of the largest support, or, on a photo too small to search
        # further, reaching it: the blur is longer still, or the estimate is wrong (on a
        # small photo two windows overlap and can agree on a wrong kernel: CC0 set,
        # chelsea x 45 px, 451x300, 1-3 dB worse than its input). A trusted kernel from a
        # smaller support that stays clear of its own edge is safer; a smaller one that is
        # itself piled against its edge is no evidence (the same chelsea pair: 1.2 dB
        # worse with it); without one the input is returned. Where the caller's limit
        # bounds the search, a kernel merely reaching it is the best estimate there is
        # (the CC0 camera x 71 px, at 75 px: NCC 0.78 with the truth, the 61 px one 0.73).
        trusted = [e for e in smaller if e.confident and not touches_border(e.kernel)]
        if trusted:
            return trusted[-1]
        return replace(est, confident=False, fallback_strength=0.0,
                       reason=f"the kernel reaches the edge of its {ks} px support (a longer "
                       "blur, or a wrong estimate)")
    if shorter is not None:
        # The 61 px kernel was doubtful or reached its edge (truncated): with the full size
        # doubtful too there is no trustworthy evidence, so the doubtful estimate is used
        # (conservatively). Keeping a truncated 61 px kernel made the bench's building x
        # 51 px 3.6 dB worse than its input, aloeL x 45 px 0.1 dB (full set, calibration
        # half: photos aloeL, building, butterfly, fruits); nothing else on the full set, the
        # CC0 set or Levin's took that path. Nor a filled tight kernel (messi5 x 57 px:
        # 0.8 dB worse than its input with it).
        return est
    if not est.confident and est.kernel.size > 1 and ks >= 25:
        # Unstable at this size: long supports invite spurious streaks (periodic texture,
        # flat surroundings). A smaller support is accepted only if it is trusted and the
        # kernel stays clear of its border (else the blur is longer and would be truncated).
        small = estimate_at(luma, int(ks * 0.7) | 1, prior, should_stop,
                             iters=_RETRY_ITERS)
        if small.confident and small.score >= _RETRY_AGREEMENT and not touches_border(small.kernel):
            return small
    return est


@dataclass(frozen=True)
class Prior:
    """The estimation settings that follow the photo's noise (see the constants above)."""

    presmooth: float
    edges: float
    lam0: float
    kernel_weight: float


def prior_for(luma: np.ndarray) -> Prior:
    """The estimation settings for a photo of this luma (HxW), from its noise level."""
    sigma = noise_level(luma)
    lo_n, hi_n = _PRESMOOTH_NOISE
    noisy = float(np.clip((sigma - lo_n) / (hi_n - lo_n), 0.0, 1.0))
    return Prior(presmooth=_PRESMOOTH * noisy,
                 edges=_EDGES / (1.0 - noisy) if noisy < 0.99 else 0.0,  # 0: all
                 lam0=float(np.interp(sigma, _L0_NOISE, _L0_WEIGHT)),
                 kernel_weight=float(np.interp(sigma, _L0_NOISE, _KERNEL_WEIGHT)))


def estimate_at(luma: np.ndarray, ks: int, prior: Prior,
                should_stop: Callable[[], bool], iters: int = 12,
                cell: bool = False) -> BlurEstimate:
    """The kernel of support ``ks`` from the most textured window of ``luma``, checked
    against a second window (see guard.assess) and, when they disagree, a third.

    ``cell``: ``luma`` is a cell of a photo whose own kernel this estimate checks (see
    field.py); its first window then needs the checking window's edges, and no third
    window is tried. A faint cell (a flat part of an upscaled photo) otherwise gave a
    kernel of its own to a photo whose blur is one: the 2 MP photo of classical_bench.py
    was split into a field, +1.0 dB and 15 s of estimation, against +2.5 dB and 4 s."""
    # Two windows on different content: camera shake is shared, so two independent estimates
    # must agree; a disagreement is the guard's main doubt signal. The kernel used is
    # their mean (guard.merged), the first window's at full size.
    crops = []
    windows = textured_windows(luma, crop_size_for(ks), count=2 if cell else 3)
    for rows, cols in windows[:2]:
        crop = _window(luma, rows, cols, prior)
        flat = assess_texture(crop, _EDGE if crops or cell else _FAINT_EDGE)
        if flat is not None:
            if not crops:
                return identity_estimate(flat)
            break
        crops.append(crop)

    def kernel_of(crop: np.ndarray) -> np.ndarray:
        return estimate_kernel(crop, ks, prior.presmooth, iters, lam0=prior.lam0,
                               weight=prior.kernel_weight, edges=prior.edges,
                               should_stop=should_stop)

    # One after the other: torch's ops already use every core, and two solves in threads
    # fought over them (3x slower than in turn).
    kernels = [kernel_of(c) for c in crops]
    if len(kernels) < 2:
        return assess(kernels[0], None)
    pair = drop_unshared(kernels[0], kernels[1])
    agree = agreement(*pair)
    # A third window only where the guard would doubt the two (see guard.assess).
    if agree >= DOUBT_BELOW or len(windows) < 3:
        return assess(*pair)
    crop = _window(luma, *windows[2], prior)
    if assess_texture(crop, _EDGE) is not None:
        return assess(*pair)
    third = kernel_of(crop)
    pairs = [drop_unshared(kernels[0], third), drop_unshared(kernels[1], third)]
    agrees = [agreement(*p) for p in pairs]
    best = int(np.argmax(agrees))  # the first on a tie
    if agrees[best] <= agree:
        return assess(*pair)
    return replace(assess(*pairs[best]), third_window=True)


def _window(luma: np.ndarray, rows: slice, cols: slice, prior: Prior) -> np.ndarray:
    return ndimage.gaussian_filter(np.clip(luma[rows, cols], 0, 1),
                                   prior.presmooth).astype(np.float32)


def reaches_edge(kernel: np.ndarray) -> bool:
    """True when the kernel's mass piles up at its edge, or its visible part (above 5 % of
    the peak) reaches the outermost pixels: either way the support cut the blur off."""
    return touches_border(kernel) or extent(kernel) >= kernel.shape[0]


def touches_border(kernel: np.ndarray, band: int = 2) -> bool:
    """True when more than 2 % of the kernel mass lies within ``band`` px of its edge."""
    inner = kernel[band:-band, band:-band].sum() if kernel.shape[0] > 2 * band else 0.0
    return float(kernel.sum() - inner) > 0.02 * float(kernel.sum())


def extent(kernel: np.ndarray) -> int:
    """Side (px) of the centred square holding every value above 5 % of the peak."""
    rows, cols = np.nonzero(kernel > 0.05 * kernel.max())
    c = kernel.shape[0] // 2
    return 2 * int(max(np.abs(rows - c).max(), np.abs(cols - c).max())) + 1


def assess_texture(crop: np.ndarray, edge: float = _EDGE) -> str | None:
    """Reason string when fewer than 0.2 % of the crop's pixels have a gradient of ``edge``
    per px or more: too little structure to estimate anything."""
    gy, gx = np.gradient(crop)
    mag = np.sqrt(gx * gx + gy * gy)
    if float(np.mean(mag > edge)) < 0.002:
        return "too flat: no usable edges"
    return None


def deconvolve(image: np.ndarray, estimate: BlurEstimate,
               strength: float = DEFAULT_STRENGTH, noise: float | None = None) -> np.ndarray:
    """Deblur ``image`` (float32 HxWxC or HxW, C = 1 or 3, in [0, 1]) with ``estimate``.

    Any rectangle works on its own (padded and edge-tapered internally). ``strength`` in
    [0, 1]: 0 returns the input, larger trusts the kernel more (weaker prior, sharper, more
    noise/ringing risk), 1 strongest. It is multiplied by ``estimate.strength_scale`` and,
    when the estimate is not confident, capped at ``estimate.fallback_strength``.
    ``noise``: the photo's noise std per channel (``prior_noise`` of the whole photo, so
    that every tile gets the same prior); measured on ``image`` when None.
    Returns float32, same shape, clipped to [0, 1].
    """
    img = np.asarray(image, dtype=np.float32)
    squeeze = img.ndim == 2
    if squeeze:
        img = img[..., None]
    s = float(np.clip(strength, 0.0, 1.0)) * float(np.clip(estimate.strength_scale, 0.0, 1.0))
    if not estimate.confident:
        s = min(s, estimate.fallback_strength)
        if s < _DOUBTFUL_NO_EFFECT:
            s = 0.0
    k = estimate.kernel
    if s <= 0 or k.size == 1 or min(img.shape[:2]) < 2:
        out = np.clip(img, 0.0, 1.0)
    else:
        sigma = prior_noise(img) if noise is None else noise
        out = deconvolve_image(img, k.astype(np.float32), s, sigma)
    return out[..., 0] if squeeze else out
