"""Behaviour of the blind deblurring core on small synthetic cases (fast)."""

from __future__ import annotations

import numpy as np
import pytest

from backend.engine.blind import (
    DEFAULT_KERNEL_SIZE,
    DEFAULT_STRENGTH,
    KERNEL_SIZE_RANGE,
    BlurEstimate,
    deconvolve,
    estimate_blur,
)
from backend.train.data.protocol import protocol_blur

from ._helpers import line_kernel, luma, psnr


def shift_invariant_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Max normalised cross-correlation of two kernels over all shifts."""
    n = a.shape[0] + b.shape[0]
    fa = np.fft.rfft2(a, (n, n))
    fb = np.fft.rfft2(b, (n, n))
    c = np.fft.irfft2(fa * np.conj(fb), (n, n))
    return float(c.max() / np.sqrt((a * a).sum() * (b * b).sum()))


@pytest.fixture(scope="module")
def case(photo: np.ndarray, shake_kernel: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, BlurEstimate]:
    k = shake_kernel
    blurred = protocol_blur(photo, k, seed=3)
    return photo, blurred, k, estimate_blur(luma(blurred), max_kernel_size=21)


def test_constants() -> None:
    lo, hi = KERNEL_SIZE_RANGE
    assert lo <= DEFAULT_KERNEL_SIZE <= hi and lo % 2 == 1 and hi % 2 == 1
    assert 0.0 < DEFAULT_STRENGTH <= 1.0


def test_kernel_estimate_close_to_truth(case) -> None:
    _, _, k, est = case
    assert est.kernel.dtype == np.float32 and est.kernel.shape[0] % 2 == 1
    assert est.kernel.shape[0] == est.kernel.shape[1]
    assert est.kernel.min() >= 0 and abs(float(est.kernel.sum()) - 1) < 1e-4
    assert shift_invariant_corr(est.kernel, k) > 0.7
    assert est.confident


def test_true_kernel_deconvolution_improves(case) -> None:
    sharp, blurred, k, _ = case
    out = deconvolve(blurred, BlurEstimate(kernel=k, confident=True), 0.8)
    assert psnr(sharp, out) > psnr(sharp, blurred) + 3.0


def test_blind_improves_by_2db(case) -> None:
    sharp, blurred, _, est = case
    out = deconvolve(blurred, est)
    assert psnr(sharp, out) > psnr(sharp, blurred) + 2.0


def test_output_shape_dtype_range(case) -> None:
    _, blurred, _, est = case
    out = deconvolve(blurred, est)
    assert out.shape == blurred.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    gray = deconvolve(blurred[..., :1], est)
    assert gray.shape == blurred[..., :1].shape
    flat2d = deconvolve(blurred[..., 0], est)
    assert flat2d.shape == blurred.shape[:2]


def test_strength_zero_is_identity(case) -> None:
    _, blurred, _, est = case
    np.testing.assert_array_equal(deconvolve(blurred, est, 0.0), blurred)


def test_barely_trusted_doubtful_kernel_leaves_the_photo_as_it_was(case) -> None:
    # A doubtful estimate scaled to a sliver of strength: a faint copy of a wrong kernel
    # cannot sharpen, so the photo comes back untouched; a little more strength is used.
    _, blurred, k, _ = case
    sliver = BlurEstimate(kernel=k, confident=False, fallback_strength=0.1,
                          strength_scale=0.015)
    np.testing.assert_array_equal(deconvolve(blurred, sliver), np.clip(blurred, 0, 1))
    some = BlurEstimate(kernel=k, confident=False, fallback_strength=0.1, strength_scale=0.1)
    assert not np.array_equal(deconvolve(blurred, some), np.clip(blurred, 0, 1))


def test_deterministic(case) -> None:
    _, blurred, _, est = case
    again = estimate_blur(luma(blurred), max_kernel_size=21)
    np.testing.assert_array_equal(again.kernel, est.kernel)
    np.testing.assert_array_equal(deconvolve(blurred, est), deconvolve(blurred, again))


@pytest.mark.parametrize("shape", [(200, 200), (5, 7), (1, 1), (40, 300)])
def test_flat_images_unharmed(shape: tuple[int, int]) -> None:
    img = np.full(shape + (3,), 0.4, np.float32)
    est = estimate_blur(img[..., 0])
    assert not est.confident
    np.testing.assert_allclose(deconvolve(img, est), img, atol=1e-6)


def test_noise_only_image_guarded() -> None:
    rng = np.random.default_rng(0)
    img = np.clip(0.5 + rng.normal(0, 0.01, (160, 160, 3)), 0, 1).astype(np.float32)
    est = estimate_blur(luma(img))
    out = deconvolve(img, est)
    assert psnr(np.full_like(img, 0.5), out) >= psnr(np.full_like(img, 0.5), img) - 0.1


def test_tiny_image_with_real_kernel() -> None:
    k = line_kernel(11)
    tiny = np.random.default_rng(1).random((6, 9, 3)).astype(np.float32)
    out = deconvolve(tiny, BlurEstimate(kernel=k, confident=True))
    assert out.shape == tiny.shape and np.isfinite(out).all()
