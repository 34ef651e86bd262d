"""Fourier-domain building blocks shared by kernel estimation and deconvolution.

All images are float32 2-D arrays (NumPy, or torch tensors in the solvers' loops); spectra
are those of ``rfft2`` (last axis halved), computed by torch's CPU FFTs on every core.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sfft
import torch
from scipy import ndimage


def rfft2(a: np.ndarray) -> np.ndarray:
    return torch.fft.rfft2(tensor(a)).numpy()


def irfft2(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return torch.fft.irfft2(tensor(a), s=shape).numpy()


def tensor(a: np.ndarray) -> torch.Tensor:
    """A torch view of a float32 or complex64 array (copied only when not contiguous or of
    a wider type). Torch's FFTs ran 2.5-3x faster than scipy's on this work (512 px,
    float32), and the kernel estimator spends about half its time in them."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.float64:
        a = a.astype(np.float32)
    elif a.dtype == np.complex128:
        a = a.astype(np.complex64)
    return torch.from_numpy(a)


def cmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The elementwise product of two complex tensors (broadcast), computed by NumPy.

    Torch splits a product of more than 32768 elements over its threads and rounds the
    elements at the pieces' ends differently (up to 1e-6 between 1 and 2 threads), so a
    result would depend on the thread count; NumPy's product does not, and was as fast
    (4.9 ms against torch's 4.2 ms at 1100x900). Torch's products of a complex by a real
    tensor and its single FFTs do not depend on it (batched inverse ones do:
    ``irfft2_each``)."""
    return torch.from_numpy(np.multiply(a.resolve_conj().numpy(), b.resolve_conj().numpy()))


def irfft2_each(spectra: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """The inverse FFT of each spectrum of a stack, one at a time: torch's batched inverse
    FFT of small spectra (a 64 x 64 stack of two) gave other roundings at 2 threads than
    at 1, and so a Ray worker another kernel than a server (a 160 px photo)."""
    return torch.stack([torch.fft.irfft2(s, s=shape) for s in spectra])


def psf2otf(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """rfft2 spectrum of ``kernel`` zero-padded to ``shape`` with its centre moved to (0, 0),
    so that multiplying spectra is a circular convolution that does not shift the image."""
    kh, kw = kernel.shape
    pad = np.zeros(shape, np.float32)
    pad[:kh, :kw] = kernel
    pad = np.roll(pad, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    return rfft2(pad)


def grad_otfs(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Spectra of the forward differences x[n+1] - x[n] along x (columns) and y (rows)."""
    h, w = shape
    fx = np.exp(2j * np.pi * np.arange(w // 2 + 1) / w) - 1.0
    fy = np.exp(2j * np.pi * np.arange(h) / h) - 1.0
    return (np.broadcast_to(fx[None, :], (h, w // 2 + 1)).astype(np.complex64),
            np.broadcast_to(fy[:, None], (h, w // 2 + 1)).astype(np.complex64))


def _roll(a, shift: int, axis: int):
    return a.roll(shift, axis) if isinstance(a, torch.Tensor) else np.roll(a, shift, axis=axis)


def dx(a):
    """Circular forward difference along columns (of an array or a tensor)."""
    return _roll(a, -1, 1) - a


def dy(a):
    """Circular forward difference along rows."""
    return _roll(a, -1, 0) - a


def div_t(gx, gy):
    """Adjoint of (dx, dy): Dx^T gx + Dy^T gy (circular)."""
    return (_roll(gx, 1, 1) - gx) + (_roll(gy, 1, 0) - gy)


def fast_shape(h: int, w: int) -> tuple[int, int]:
    """Next FFT-friendly size; the last axis is kept even for rfft."""
    fh = sfft.next_fast_len(h, real=True)
    fw = sfft.next_fast_len(w, real=True)
    if fw % 2:
        fw = sfft.next_fast_len(fw + 1, real=True)
    return fh, fw


def pad_periodic(img: np.ndarray, margin: int, shape: tuple[int, int] | None = None,
                 spectral: bool = False) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Pad a 2-D image so that its circular extension is smooth (no wrap-around edge).

    The border is filled by symmetric reflection and then cross-faded, over the padding, into
    a heavily blurred circular version of itself, which makes the two opposite borders meet
    continuously. Returns the padded image (``shape`` if given, at least image + 2*margin)
    and the slices that recover the original region. ``spectral``: the wide blur of the
    border by its spectrum (see _gaussian_wrap), for callers that pad a whole tile.
    """
    h, w = img.shape
    if shape is None:
        shape = fast_shape(h + 2 * margin, w + 2 * margin)
    ph, pw = shape
    top, left = (ph - h) // 2, (pw - w) // 2
    out = np.pad(img, ((top, ph - h - top), (left, pw - w - left)), mode="symmetric")
    # Weight 1 inside the image, falling smoothly to 0 in the middle of the padding.
    wy = _ramp(ph, top, h)
    wx = _ramp(pw, left, w)
    weight = np.minimum.outer(wy, wx)
    sigma = max(min(ph - h, pw - w) / 4.0, 1.0)
    smooth = _gaussian_wrap(out, sigma) if spectral else ndimage.gaussian_filter(
        out, sigma, mode="wrap")
    out = (weight * out + (1.0 - weight) * smooth).astype(np.float32)
    return out, (slice(top, top + h), slice(left, left + w))


def _gaussian_wrap(a: np.ndarray, sigma: float) -> np.ndarray:
    """Circular Gaussian blur. A wide one by its spectrum: at the padding's sigma (~20 px for
    a 40 px kernel) ndimage's separable filter took 15 % of a deconvolution, the spectrum 2 %
    (the two differ by < 1e-5). A narrow one directly: there the sampled kernel ndimage uses
    and the continuous Gaussian's spectrum differ (1e-3 at 1 px). The kernel estimator keeps
    ndimage's: that 1e-5 change of its padding moved the blind result of four of Levin's
    photos by 1-9 dB, both ways (two doubtful estimates became trusted): luck, not a better
    estimator."""
    if sigma < 4.0:
        return ndimage.gaussian_filter(a, sigma, mode="wrap")
    h, w = a.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    g = np.exp(-2.0 * np.pi ** 2 * sigma ** 2 * (fy ** 2 + fx ** 2)).astype(np.float32)
    return irfft2(rfft2(a) * g, a.shape)


def _ramp(n: int, start: int, length: int) -> np.ndarray:
    """1 on [start, start+length), raised-cosine fall to 0 halfway across the padding."""
    idx = np.arange(n, dtype=np.float32)
    d_in = np.maximum(start - idx, idx - (start + length - 1))  # distance outside the image
    d_in = np.maximum(d_in, 0)
    half = max((n - length) / 2.0, 1.0)
    t = np.clip(d_in / half, 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * t)).astype(np.float32)
