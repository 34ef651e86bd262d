"""The classical engine through DeblurService, as the server runs it."""

import numpy as np

from backend.engine.classical import ClassicalEngine
from backend.jobs.service import DeblurService
from backend.train.data.protocol import protocol_blur
from backend.types import JobSpec

from ..conftest import sample_photo, shake_kernel_of  # noqa: TID252


def psnr(a, b):
    return 10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2))


def run(image, **params):
    restored, note = DeblurService([ClassicalEngine()]).deblur(
        JobSpec(image, "classical", params))
    return restored, [note] if note else []


def blurred_case(size=192, kernel_index=1, seed=5):
    sharp = sample_photo("astronaut", size)
    return sharp, protocol_blur(sharp, shake_kernel_of(kernel_index), seed)


def test_blind_deblurring_gains_two_db_on_a_known_blur():
    sharp, blurred = blurred_case()
    restored, _ = run(blurred)
    assert psnr(restored, sharp) >= psnr(blurred, sharp) + 2.0


def test_tiled_run_stays_close_to_the_single_tile_result():
    _, blurred = blurred_case(size=256)
    whole, _ = run(blurred, tile_size=256, overlap=0)
    tiled, _ = run(blurred, tile_size=160, overlap=64)
    assert psnr(tiled, whole) > 35


def test_strength_zero_returns_the_input():
    _, blurred = blurred_case(size=96)
    restored, _ = run(blurred, strength=0.0)
    np.testing.assert_allclose(restored, blurred, atol=1e-6)


def test_flat_image_is_left_alone_with_a_note():
    flat = np.full((120, 150, 3), 0.4, np.float32)
    flat += np.random.default_rng(0).normal(0, 0.01, flat.shape).astype(np.float32)
    restored, notes = run(flat)
    assert np.abs(restored - flat).mean() < 0.01
    assert notes and "conservative" in notes[0]


def test_grayscale_and_uint8_work():
    _, blurred = blurred_case(size=96)
    gray = (blurred.mean(axis=2, keepdims=True) * 255).astype(np.uint8)
    restored, _ = run(gray)
    assert restored.dtype == np.uint8 and restored.shape == gray.shape


def test_info_offers_kernel_size_and_strength():
    info = ClassicalEngine().info()
    assert {p.name for p in info.params} == {"kernel_size", "strength", "tile_size", "overlap"}
    assert info.param("strength").minimum == 0 and info.param("strength").maximum == 1
