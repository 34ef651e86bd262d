"""A blur kernel as the user sees it: the one the engine removed (returned with the result)
or one the user gives back for non-blind deblurring. One home for its rules and its file
form, so the wire, the CLI and the desktop app agree. numpy only: front ends import it."""

from __future__ import annotations

import numpy as np

from .errors import InvalidRequest

#: Largest kernel side accepted (the classical engine searches up to 101 px).
MAX_KERNEL_SIDE = 101


def checked_kernel(values: np.ndarray) -> np.ndarray:
    """``values`` as a valid kernel: float32, square, odd side of at most MAX_KERNEL_SIDE,
    finite, non-negative, normalised to sum 1. Raises InvalidRequest saying what is wrong."""
    k = np.asarray(values, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise InvalidRequest(f"a blur kernel must be a square image, got shape {k.shape}")
    side = k.shape[0]
    if side % 2 == 0 or not 1 <= side <= MAX_KERNEL_SIDE:
        raise InvalidRequest(f"a blur kernel must have an odd side of 1 to {MAX_KERNEL_SIDE} "
                             f"px (so that it has a centre pixel), got {side}")
    if not np.isfinite(k).all() or (k < 0).any():
        raise InvalidRequest("blur kernel values must be finite and non-negative")
    total = float(k.sum())
    if total <= 0:
        raise InvalidRequest("a blur kernel must have some positive value (it is all zero)")
    return (k / total).astype(np.float32)


def kernel_to_pixels(kernel: np.ndarray) -> np.ndarray:
    """16-bit grey image of a kernel, its peak at full white: what ``--kernel-out`` writes.
    The scale is not kept (a kernel is normalised on reading), only the shape."""
    k = np.asarray(kernel, dtype=np.float64)
    peak = float(k.max()) if k.size else 0.0
    scaled = k / peak if peak > 0 else k
    return np.round(scaled * 65535).astype(np.uint16)[:, :, None]


def kernel_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """A kernel from an image file's pixels (grey, or colour averaged; alpha ignored)."""
    p = np.asarray(pixels)
    if p.ndim == 3:
        colour = p[:, :, :3] if p.shape[2] >= 3 else p[:, :, :1]
        p = colour.astype(np.float64).mean(axis=2)
    return checked_kernel(p)
