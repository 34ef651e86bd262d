"""A kernel reaching the edge of the largest support searched is not trusted: on a small
photo the two estimation windows overlap and can agree on a wrong kernel. A trusted kernel
from a smaller support that stays clear of its own edge is used instead; else the photo is
returned as it was."""

import numpy as np
import pytest

from backend.engine.blind import api, deconvolve, estimate_blur, prior_noise
from backend.engine.blind.guard import assess
from backend.train.data.kernels import random_kernel
from backend.train.data.protocol import protocol_blur
from tests.conftest import sample_photo

from ._helpers import luma


def _case(name: str, size: int):
    """A pair of the CC0 benchmark (benchmarks/cc0_bench.py) where this mattered."""
    sharp = sample_photo(name)
    kernel = random_kernel(np.random.default_rng([7, size]), (size, size))
    return sharp, protocol_blur(sharp, kernel, seed=size)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chelsea", "coins"])
def test_a_wrong_kernel_filling_its_support_leaves_the_photo_as_it_was(name):
    # 300 px high: the support is capped at 61, the windows overlap and agree on a wrong
    # kernel (chelsea: 2.8 dB worse than its input before; coins: 1.6 dB)
    sharp, blurred = _case(name, 45)
    estimate = estimate_blur(luma(blurred))
    assert not estimate.confident
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    np.testing.assert_array_equal(out, np.clip(blurred, 0, 1))


def _stroke(size: int, length: int, offset: int = 0) -> np.ndarray:
    """A horizontal line ``length`` px long on a ``size`` px support, ``offset`` px right."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, c - length // 2 + offset: c + length // 2 + 1 + offset] = 1.0
    return k / k.sum()


def _scripted(monkeypatch, kernels: dict[int, np.ndarray]) -> None:
    """Every support gives its scripted kernel, agreed on by both windows."""
    monkeypatch.setattr(api, "estimate_at",
                        lambda luma, ks, *a, **kw: assess(kernels[ks], kernels[ks]))


def test_the_largest_support_at_its_edge_falls_back_to_a_trusted_smaller_kernel(monkeypatch):
    # 320 px: supports 41 (tight) and 61; the tight kernel nearly fills its support, so
    # the larger one is tried, and that one reaches its edge.
    tight = _stroke(41, 37)
    _scripted(monkeypatch, {41: tight, 61: _stroke(61, 59)})
    estimate = estimate_blur(np.zeros((320, 320), np.float32), max_kernel_size=61)
    assert estimate.confident and estimate.kernel.shape == (41, 41)
    np.testing.assert_array_equal(estimate.kernel, tight)


def test_a_smaller_kernel_piled_against_its_own_edge_is_no_fallback(monkeypatch):
    _scripted(monkeypatch, {41: _stroke(41, 37, offset=2), 61: _stroke(61, 59)})
    estimate = estimate_blur(np.zeros((320, 320), np.float32), max_kernel_size=61)
    assert not estimate.confident and "edge of its 61 px" in estimate.reason
    assert estimate.fallback_strength == 0.0
