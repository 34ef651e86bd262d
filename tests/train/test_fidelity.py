"""PSNR and SSIM agree with scikit-image, the benchmark protocol's reference."""

import numpy as np
import pytest

from backend.train.metrics import psnr, ssim
from tests.conftest import sample_photo

from .conftest import gaussian_blur

skimage_metrics = pytest.importorskip("skimage.metrics")


def reference_ssim(a, b):
    return skimage_metrics.structural_similarity(a, b, data_range=1, channel_axis=-1)


def hand_made_pair():
    """A ramp with a bright square, against a shifted, noisier, darker copy."""
    rng = np.random.default_rng(3)
    a = np.tile(np.linspace(0, 1, 40, dtype=np.float32), (30, 1))[..., None].repeat(3, 2)
    a[8:20, 10:25] = [0.9, 0.2, 0.5]
    b = np.clip(0.8 * np.roll(a, 2, axis=1) + rng.normal(0, 0.05, a.shape), 0, 1)
    return a, b.astype(np.float32)


@pytest.mark.parametrize("case", ["hand-made", "photo"])
def test_psnr_and_ssim_match_scikit_image(case):
    if case == "hand-made":
        a, b = hand_made_pair()
    else:
        a = sample_photo("chelsea")
        b = gaussian_blur(a, 2.0)
    assert psnr(a, b) == pytest.approx(
        skimage_metrics.peak_signal_noise_ratio(a, b, data_range=1), abs=1e-4)
    assert abs(ssim(a, b) - reference_ssim(a, b)) < 1e-4


def test_grey_images_and_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    a, b = hand_made_pair()
    assert ssim(a[..., 0], b[..., 0]) == pytest.approx(
        skimage_metrics.structural_similarity(a[..., 0], b[..., 0], data_range=1), abs=1e-4)
    assert ssim(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(ssim(a, b))


def test_identical_images_are_perfect_and_mismatches_are_refused():
    a, b = hand_made_pair()
    assert psnr(a, a) == float("inf")
    assert ssim(a, a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shape"):
        ssim(a, b[:-1])
    with pytest.raises(ValueError, match="window"):
        ssim(a[:5], b[:5])
