"""The benchmark protocol blur (shared/data/README.md "Protocol"), written once so that the
benchmark, the engine tests and any evaluation degrade images the same way."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def protocol_blur(sharp: np.ndarray, kernel: np.ndarray, seed: int,
                  noise: float = 0.01) -> np.ndarray:
    """Blur `sharp` (HxW or HxWxC float in [0, 1]) with `kernel` (odd square) per channel,
    "same" size with a symmetric boundary; add Gaussian noise of std `noise` drawn from
    ``default_rng(seed)``; clip to [0, 1]; round to 8 bits. Returns float32 of the input's
    shape."""
    chans = sharp[..., None] if sharp.ndim == 2 else sharp
    out = np.stack([_blurred(chans[..., c], kernel) for c in range(chans.shape[2])], axis=-1)
    out = _noisy_8bit(out, seed, noise)
    return out[..., 0] if sharp.ndim == 2 else out


def protocol_blur_varying(sharp: np.ndarray, left: np.ndarray, right: np.ndarray, seed: int,
                          noise: float = 0.002) -> np.ndarray:
    """A shake that differs across the frame, as `protocol_blur` otherwise: `left`'s blur
    on the left 40 % of a grey HxW photo, `right`'s on the right 40 %, the two blurred
    photos mixed linearly in between (how a varying blur is usually modelled)."""
    share = np.clip((np.arange(sharp.shape[1]) / (sharp.shape[1] - 1) - 0.4) / 0.2, 0, 1)
    return _noisy_8bit((1 - share) * _blurred(sharp, left) + share * _blurred(sharp, right),
                       seed, noise)


def _blurred(plane: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """One HxW plane blurred by `kernel`, "same" size with a symmetric boundary."""
    r = kernel.shape[0] // 2
    return fftconvolve(np.pad(plane, r, mode="symmetric"), kernel, "valid")


def _noisy_8bit(blurred: np.ndarray, seed: int, noise: float) -> np.ndarray:
    # The noise is added in float64 (the benchmark's historical numbers were made so).
    out = blurred + np.random.default_rng(seed).normal(0.0, noise, blurred.shape)
    return (np.round(np.clip(out, 0, 1) * 255) / 255).astype(np.float32)
