"""Long camera shake (45-75 px) is estimated at its length, not truncated or skipped: the
default search reaches 75 px, trying 61 px first because most shake is shorter."""

import numpy as np
import pytest

from backend.engine.blind import DEFAULT_KERNEL_SIZE, deconvolve, estimate_blur, prior_noise
from backend.train.data.kernels import random_kernel
from backend.train.data.protocol import protocol_blur
from tests.conftest import sample_photo

from ._helpers import luma, psnr


@pytest.mark.slow
def test_a_71_px_shake_is_found_at_full_length_and_removed():
    sharp = sample_photo("camera")
    kernel = random_kernel(np.random.default_rng([7, 3, 71]), (71, 71))
    blurred = protocol_blur(sharp, kernel, seed=3)
    assert DEFAULT_KERNEL_SIZE >= 75
    estimate = estimate_blur(luma(blurred))
    assert estimate.confident
    assert estimate.kernel.shape[0] >= 71  # the 61 px first try was truncated: gone on
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    assert psnr(out, sharp) >= psnr(blurred, sharp) + 3.0


def test_a_short_shake_keeps_the_61_px_support():
    """The larger support is only for blur that needs it: a 15 px one stays at 61 px."""
    from ._helpers import line_kernel, shapes_photo

    sharp = shapes_photo(400, seed=2)
    blurred = protocol_blur(sharp, line_kernel(15), seed=1, noise=0.003)
    estimate = estimate_blur(blurred)
    assert estimate.confident and estimate.kernel.shape[0] == 61


@pytest.mark.slow
def test_a_long_shake_of_a_low_contrast_photo_is_removed_not_called_flat():
    """A hazy photo (contrast cut to 17.5 %) shaken over 57 px keeps no gradient of 0.02 per
    px in its most textured window, yet its faint edges still carry the kernel."""
    sharp = (0.5 + 0.175 * (sample_photo("camera") - 0.5)).astype(np.float32)
    kernel = random_kernel(np.random.default_rng([7, 3, 57]), (57, 57))
    blurred = protocol_blur(sharp, kernel, seed=3)
    estimate = estimate_blur(luma(blurred))
    assert estimate.confident, estimate.reason
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    assert psnr(out, sharp) >= psnr(blurred, sharp) + 2.0
