"""A shake that differs across a large photo gets a kernel per region, and the regions'
deconvolutions are blended without seams; a uniform shake keeps its one kernel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve

from backend.engine.blind import BlurField, deconvolve, deconvolve_at, estimate_shake
from backend.engine.blind.guard import agreement
from backend.engine.blind.types import BlurEstimate, identity_estimate
from backend.engine.classical import ClassicalEngine
from backend.jobs.service import DeblurService
from backend.train.data.kernels import random_kernel
from backend.train.data.protocol import protocol_blur_varying
from backend.types import JobSpec

from ._helpers import line_kernel, psnr, shapes_photo

SIDE = 1400  # the smallest photo split into 2 x 2 cells for a 75 px support


def _blurred(sharp: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return protocol_blur_varying(sharp, left, right, seed=0)


def _field(estimates, shape=(90, 120), rows=2, cols=3) -> BlurField:
    return BlurField(shape, rows, cols, tuple(estimates), estimates[0])


def test_blending_weights_sum_to_one_and_do_not_depend_on_the_tiles():
    estimate = identity_estimate("test")
    field = _field([estimate] * 6)
    whole = field.weights(0, 0, 90, 120)
    np.testing.assert_allclose(whole.sum(axis=0), 1.0, atol=1e-6)
    assert whole.min() >= 0
    np.testing.assert_array_equal(field.weights(30, 45, 40, 50), whole[:, 30:70, 45:95])
    # Each cell weighs most at its own centre: row 0, column 1 is centred at (22, 60).
    assert int(np.argmax(whole[:, 22, 60])) == 1


def test_cells_sharing_one_kernel_give_the_plain_deconvolution(photo):
    kernel = line_kernel(9)
    blurred = fftconvolve(photo[..., 0], kernel, "same").astype(np.float32)[..., None]
    one = BlurEstimate(kernel=kernel, confident=True)
    field = _field([one] * 6, shape=blurred.shape[:2])
    np.testing.assert_array_equal(deconvolve_at(blurred, (0, 0), field, 0.8),
                                  deconvolve(blurred, one, 0.8))


@pytest.mark.slow
def test_a_shake_that_differs_left_and_right_is_removed_on_both_sides():
    """Two shakes at right angles (agreement 0.33): the photo as a whole is doubtful and
    came back unchanged before; each quadrant now finds its side's kernel, and the blended
    result gains several dB over the input, in the engine's own tiles."""
    sharp = shapes_photo(SIDE, seed=0)
    left = random_kernel(np.random.default_rng([41, 1]), (41, 41))
    right = np.rot90(left).copy()
    blurred = _blurred(sharp, left, right)
    field = estimate_shake(blurred)
    assert isinstance(field, BlurField) and (field.rows, field.cols) == (2, 2)
    for r in range(2):
        assert agreement(field.cells[2 * r].kernel, left) >= 0.7
        assert agreement(field.cells[2 * r + 1].kernel, right) >= 0.7
    pixels = np.round(blurred * 255).astype(np.uint8)[..., None]
    out, note = DeblurService([ClassicalEngine()]).deblur(
        JobSpec(pixels, "classical", {"tile_size": 768}))
    assert "differs across the photo" in note
    gain = psnr(out[..., 0] / 255, sharp) - psnr(blurred, sharp)
    one_kernel = deconvolve(blurred, field.overall, 0.8)
    assert gain >= 5.0 and psnr(out[..., 0] / 255, sharp) >= psnr(one_kernel, sharp) + 4.0


@pytest.mark.slow
def test_a_uniform_shake_on_a_large_photo_keeps_one_kernel():
    sharp = shapes_photo(SIDE, seed=0)
    kernel = random_kernel(np.random.default_rng([41, 1]), (41, 41))
    estimate = estimate_shake(_blurred(sharp, kernel, kernel))
    assert not isinstance(estimate, BlurField)
    assert estimate.confident and agreement(estimate.kernel, kernel) >= 0.8
