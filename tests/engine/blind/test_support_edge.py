"""A kernel piled against the edge of the largest support searched is not trusted: on a
small photo the two estimation windows overlap and can agree on a wrong kernel. A trusted
kernel from a smaller support (truncated, but right) is used instead; else the photo is
returned as it was."""

import numpy as np
import pytest

from backend.engine.blind import deconvolve, estimate_blur, prior_noise
from backend.train.data.kernels import random_kernel
from backend.train.data.protocol import protocol_blur
from tests.conftest import sample_photo

from ._helpers import luma, psnr


def _case(name: str, size: int):
    """A pair of the CC0 benchmark (benchmarks/cc0_bench.py) where this mattered."""
    sharp = sample_photo(name)
    kernel = random_kernel(np.random.default_rng([7, size]), (size, size))
    return sharp, protocol_blur(sharp, kernel, seed=size)


@pytest.mark.slow
def test_a_wrong_kernel_filling_its_support_leaves_the_photo_as_it_was():
    sharp, blurred = _case("chelsea", 45)  # 300 px high: the support is capped at 61
    estimate = estimate_blur(luma(blurred))
    assert not estimate.confident and "edge of its" in estimate.reason
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    np.testing.assert_array_equal(out, np.clip(blurred, 0, 1))  # before: 3.0 dB worse


@pytest.mark.slow
def test_a_trusted_smaller_kernel_wins_over_a_larger_one_at_the_edge():
    sharp, blurred = _case("coins", 45)
    estimate = estimate_blur(luma(blurred))
    assert estimate.confident and estimate.kernel.shape[0] < 61
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    assert psnr(out, sharp) >= psnr(blurred, sharp) + 3.0  # before: 1.6 dB worse
