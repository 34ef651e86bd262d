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
from backend.train.metrics.fidelity import ssim
from tests.conftest import sample_photo

from ._helpers import luma, psnr


def _case(name: str, size: int):
    """A pair of the CC0 benchmark (benchmarks/cc0_bench.py) where this mattered."""
    sharp = sample_photo(name)
    kernel = random_kernel(np.random.default_rng([7, size]), (size, size))
    return sharp, protocol_blur(sharp, kernel, seed=size)


@pytest.mark.slow
def test_a_wrong_kernel_filling_its_support_leaves_the_photo_as_it_was():
    # 300 px high: the support is capped at 61, the windows overlap and agree on a wrong
    # kernel that reaches the support's edge (2.8 dB worse than its input before the rule)
    sharp, blurred = _case("chelsea", 45)
    estimate = estimate_blur(luma(blurred))
    assert not estimate.confident and "edge of its 61 px" in estimate.reason
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    np.testing.assert_array_equal(out, np.clip(blurred, 0, 1))


@pytest.mark.slow
def test_a_small_photo_whose_windows_overlap_comes_out_sharper_or_as_it_was():
    # The coins pair's overlapping windows once agreed on a wrong kernel (1.6 dB worse
    # than its input); with the windows' kernels averaged it is estimated well (+6.6 dB).
    sharp, blurred = _case("coins", 45)
    estimate = estimate_blur(luma(blurred))
    out = deconvolve(blurred, estimate, noise=prior_noise(blurred))
    if not estimate.confident:
        np.testing.assert_array_equal(out, np.clip(blurred, 0, 1))
    assert psnr(sharp, out) >= psnr(sharp, blurred)
    assert ssim(sharp, out) >= ssim(sharp, blurred)


def _stroke(size: int, length: int) -> np.ndarray:
    """A horizontal line ``length`` px long, centred on a ``size`` px support."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    k[c, c - length // 2: c + length // 2 + 1] = 1.0
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
    # Centred, as every estimate is, and spanning the whole support.
    _scripted(monkeypatch, {41: _stroke(41, 41), 61: _stroke(61, 59)})
    estimate = estimate_blur(np.zeros((320, 320), np.float32), max_kernel_size=61)
    assert not estimate.confident and "edge of its 61 px" in estimate.reason
    assert estimate.fallback_strength == 0.0


def test_a_61_px_kernel_reaching_its_edge_is_not_kept_when_the_full_size_is_doubtful(
        monkeypatch):
    # 640 px: supports 61, then 75. The 61 px kernel spans its support (truncated: the
    # blur is longer) and the 75 px windows disagree: no trustworthy kernel, so the result
    # must stay conservative rather than sharpen with the truncated one.
    doubtful = assess(_stroke(75, 51), _stroke(75, 51).T)
    monkeypatch.setattr(api, "estimate_at", lambda luma, ks, *a, **kw: {
        61: assess(_stroke(61, 61), _stroke(61, 61)), 75: doubtful}[ks])
    estimate = estimate_blur(np.zeros((640, 640), np.float32), max_kernel_size=75)
    assert not estimate.confident and estimate.kernel.shape == (75, 75)
    assert "disagree" in estimate.reason
