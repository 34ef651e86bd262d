"""The photo must not move, and the priors follow the photo's noise (synthetic data only)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from backend.engine.blind import BlurEstimate, deconvolve, estimate_blur, noise_level
from backend.engine.blind.api import prior_for
from backend.train.data.protocol import protocol_blur
from backend.train.metrics.upto_shift import score_upto_shift

from ._helpers import shapes_photo


def offset_trajectory(size: int = 19) -> np.ndarray:
    """An L-shaped hand-shake path lying wholly in one quadrant of its square: its centre of
    mass is several pixels from the square's centre, as a real trajectory's often is."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c + 1, c + 1: size - 1] = 1.0
    k[c + 1: size - 1, size - 2] = 1.0
    return k / k.sum()


def centroid_shift(kernel: np.ndarray) -> np.ndarray:
    """Where the kernel moves the photo's content (rows, cols): its centroid offset."""
    c = kernel.shape[0] // 2
    return np.array(ndimage.center_of_mass(kernel)) - c


@pytest.mark.parametrize("seed", [0, 1])
def test_output_stays_registered_with_the_input(seed: int) -> None:
    sharp = shapes_photo(seed=seed)
    k = offset_trajectory()
    blurred = protocol_blur(sharp, k, seed=seed, noise=0.002)
    # What the user sees: the blurred photo, whose content sits at the kernel's centroid.
    seen = ndimage.shift(sharp, centroid_shift(k), order=3, mode="nearest")
    assert np.abs(centroid_shift(k)).max() > 2  # the trajectory really is off-centre
    est = estimate_blur(blurred, max_kernel_size=31)
    out = deconvolve(blurred, est)
    score = score_upto_shift(out, seen)
    assert max(abs(v) for v in score.shift) <= 0.5, score.shift
    assert score.psnr > score_upto_shift(blurred, seen).psnr + 2


def test_known_kernel_keeps_registration() -> None:
    sharp = shapes_photo(seed=2)
    k = offset_trajectory()
    blurred = protocol_blur(sharp, k, seed=2, noise=0.002)
    seen = ndimage.shift(sharp, centroid_shift(k), order=3, mode="nearest")
    out = deconvolve(blurred, BlurEstimate(kernel=k, confident=True))
    # A kernel given as is (not recentred) restores the photo where the kernel says; the
    # estimates are recentred, so the user's overlay matches.
    assert max(abs(v) for v in score_upto_shift(out, sharp).shift) <= 0.5
    assert score_upto_shift(out, seen).psnr < score_upto_shift(out, sharp).psnr


@pytest.mark.parametrize("sigma", [0.0015, 0.005, 0.01, 0.03])
def test_noise_level_reads_the_added_noise(sigma: float) -> None:
    photo = shapes_photo(seed=3)
    blurred = ndimage.gaussian_filter(photo, 2.0)
    rng = np.random.default_rng(4)
    rgb = np.stack([blurred + rng.normal(0, sigma, blurred.shape) for _ in range(3)], -1)
    assert noise_level(rgb.astype(np.float32)) == pytest.approx(sigma, rel=0.15)


def test_clean_photo_gets_a_weaker_prior_than_a_noisy_one() -> None:
    """The same blur deconvolved at two noise levels: on the clean one the engine must sharpen
    more (closer to the truth) than the prior tuned for 1 % noise lets it."""
    sharp = shapes_photo(seed=5)
    k = offset_trajectory(15)
    blurred = protocol_blur(sharp, k, seed=5, noise=0.0015)
    est = BlurEstimate(kernel=k, confident=True)
    adaptive = deconvolve(blurred, est)
    as_if_noisy = deconvolve(blurred, est, noise=0.01)
    truth = score_upto_shift
    assert truth(adaptive, sharp).psnr > truth(as_if_noisy, sharp).psnr + 0.5


def test_the_kernel_penalty_is_weaker_on_a_clean_photo_and_unchanged_at_1_percent_noise():
    # A clean photo's gradients pin the kernel well enough for a weaker penalty (Levin's
    # photos: +0.2 dB); the bench's 1 % noise keeps the penalty its results were made with.
    sharp = shapes_photo(seed=3)
    clean = prior_for(protocol_blur(sharp, np.ones((1, 1), np.float32), seed=0, noise=0.0))
    noisy = prior_for(protocol_blur(sharp, np.ones((1, 1), np.float32), seed=0, noise=0.01))
    assert clean.kernel_weight == 10.0
    assert noisy.kernel_weight == 20.0
