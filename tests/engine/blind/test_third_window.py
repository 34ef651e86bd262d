"""When the two estimation windows disagree, a third settles it: a pair with it that
agrees is used, marked as weaker evidence, and a larger support whose windows agree better
wins over it."""

from dataclasses import replace

import numpy as np

from backend.engine.blind import api, estimate_blur
from backend.engine.blind.guard import assess
from tests.conftest import sample_photo

from ._helpers import luma


def _stroke(size: int, length: int, angle: float = 0.0) -> np.ndarray:
    """A straight stroke ``length`` px long through the centre of a ``size`` px support."""
    k = np.zeros((size, size), np.float32)
    c = size // 2
    t = np.linspace(-(length // 2), length // 2, 4 * length)
    k[np.round(c + t * np.sin(angle)).astype(int), np.round(c + t * np.cos(angle)).astype(int)] = 1
    return k / k.sum()


def _windows_give(monkeypatch, *kernels: np.ndarray) -> list[int]:
    """The estimation windows, in turn, give these kernels; returns the call count."""
    calls = []

    def scripted(crop, ks, *args, **kwargs):
        calls.append(ks)
        return kernels[len(calls) - 1]

    monkeypatch.setattr(api, "estimate_kernel", scripted)
    return calls


def _textured() -> np.ndarray:
    return luma(sample_photo("astronaut"))  # 512 px: room for three 384 px windows


def test_a_third_window_that_agrees_with_one_of_two_settles_them(monkeypatch):
    right, wrong = _stroke(41, 25), _stroke(41, 25, np.pi / 2)
    calls = _windows_give(monkeypatch, right, wrong, right)
    estimate = api.estimate_at(_textured(), 41, api.prior_for(_textured()), lambda: False)
    assert len(calls) == 3
    assert estimate.confident and estimate.third_window and estimate.score > 0.99
    np.testing.assert_allclose(estimate.kernel, right, atol=1e-6)


def test_a_third_window_that_agrees_with_neither_leaves_the_estimate_doubtful(monkeypatch):
    first, second = _stroke(41, 25), _stroke(41, 25, np.pi / 2)
    _windows_give(monkeypatch, first, second, _stroke(41, 25, np.pi / 4))
    estimate = api.estimate_at(_textured(), 41, api.prior_for(_textured()), lambda: False)
    assert not estimate.confident and "disagree" in estimate.reason


def test_two_windows_that_agree_need_no_third(monkeypatch):
    calls = _windows_give(monkeypatch, _stroke(41, 25), _stroke(41, 25))
    estimate = api.estimate_at(_textured(), 41, api.prior_for(_textured()), lambda: False)
    assert len(calls) == 2 and estimate.confident and not estimate.third_window


def _supports_give(monkeypatch, estimates: dict) -> None:
    monkeypatch.setattr(api, "estimate_at", lambda luma, ks, *a, **kw: estimates[ks])


def test_a_larger_support_that_agrees_better_wins_over_a_third_window_pair(monkeypatch):
    # 640 px: supports 61, then 75. The 61 px pair needed a third window.
    settled = replace(assess(_stroke(61, 35), _stroke(61, 33)), third_window=True)
    full = assess(_stroke(75, 51), _stroke(75, 51))
    _supports_give(monkeypatch, {61: settled, 75: full})
    estimate = estimate_blur(np.zeros((640, 640), np.float32), max_kernel_size=75)
    assert estimate is full


def test_a_third_window_pair_is_kept_when_the_larger_support_is_doubtful(monkeypatch):
    settled = replace(assess(_stroke(61, 35), _stroke(61, 33)), third_window=True)
    doubtful = assess(_stroke(75, 51), _stroke(75, 51, np.pi / 2))
    _supports_give(monkeypatch, {61: settled, 75: doubtful})
    estimate = estimate_blur(np.zeros((640, 640), np.float32), max_kernel_size=75)
    assert estimate is settled
