"""Scoring up to shift, the Levin benchmark's protocol."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from backend.train.metrics import psnr
from backend.train.metrics.upto_shift import score_upto_shift


def scene(size: int = 96) -> np.ndarray:
    rng = np.random.default_rng(0)
    return ndimage.gaussian_filter(rng.random((size, size)), 2.0).astype(np.float64)


@pytest.mark.parametrize("dy,dx", [(0.0, 0.0), (1.25, -2.5), (-4.75, 3.0)])
def test_a_shifted_copy_is_found_and_scores_as_equal(dy: float, dx: float) -> None:
    sharp = scene()
    moved = ndimage.shift(sharp, (dy, dx), order=1, mode="nearest")  # truth at +shift
    s = score_upto_shift(moved, sharp)
    assert s.shift == (dy, dx)
    assert s.psnr > 40
    if (dy, dx) != (0.0, 0.0):  # scored without the shift it would look far worse
        assert psnr(moved[15:-15, 15:-15], sharp[15:-15, 15:-15]) < s.psnr - 10


def test_error_is_the_sum_of_squares_at_the_best_shift() -> None:
    sharp = scene()
    noisy = sharp + np.random.default_rng(1).normal(0, 0.01, sharp.shape)
    s = score_upto_shift(noisy, sharp)
    inner = (noisy - sharp)[15:-15, 15:-15]
    assert s.sse <= float((inner ** 2).sum()) + 1e-9
    # Interpolating at a quarter-pixel shift averages noise away: the protocol's own bias,
    # bounded here so that a broken search (a huge or a zero error) still fails.
    assert s.sse > 0.5 * float((inner ** 2).sum())


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="one size"):
        score_upto_shift(np.zeros((64, 64)), np.zeros((64, 65)))
    with pytest.raises(ValueError, match="too small"):
        score_upto_shift(np.zeros((30, 30)), np.zeros((30, 30)))
