"""Out-of-memory fallback: batches halve, then tiles, and the result does not change."""

from collections.abc import Mapping

import numpy as np
import pytest

from backend.engine.base import Engine, PreparedJob, position_blind
from backend.errors import OutOfMemory, ResourceExhausted
from backend.jobs.fallback import MemoryFallback
from backend.jobs.service import DeblurService
from backend.types import JobSpec, ParamSpec, Progress, TileResult


def _blur3(batch: np.ndarray) -> np.ndarray:
    """A 3x3 box filter: local, so tiling with overlap >= 8 changes nothing."""
    padded = np.pad(batch, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = batch.shape[1:3]
    return sum(padded[:, i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9


class SmallDevice:
    """A batch function that runs out of memory above a number of pixels per call."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self.calls: list[tuple[int, ...]] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(batch.shape[:3])
        if batch.shape[0] * batch.shape[1] * batch.shape[2] > self.max_pixels:
            raise OutOfMemory("simulated")
        return _blur3(batch)


class SmallDeviceEngine(Engine):
    name = "small"
    description = "3x3 box filter on a device with little memory"
    multiple = 16
    default_tile_size = 64
    default_overlap = 16

    def __init__(self, max_pixels: int) -> None:
        self.device_fn = SmallDevice(max_pixels)

    def engine_params(self) -> tuple[ParamSpec, ...]:
        return ()

    def batch_size(self, tile_height: int, tile_width: int) -> int:
        return 4

    def prepare(self, image: np.ndarray, params: Mapping[str, float], seed,
                should_stop=lambda: False) -> PreparedJob:
        return PreparedJob(self.device_fn)


def _corners(batch):
    return [(0, 0)] * len(batch)


def _tiles(n=4, side=64):
    return np.random.default_rng(0).random((n, side, side, 3), dtype=np.float32)


def test_fits_first_time_runs_untouched():
    device = SmallDevice(10**9)
    fallback = MemoryFallback(position_blind(device), batch_size=4, multiple=16, overlap=16)
    batch = _tiles()
    np.testing.assert_array_equal(fallback(batch, _corners(batch)), _blur3(batch))
    assert device.calls == [(4, 64, 64)] and fallback.take_notes() == []


def test_batch_halves_and_stays_halved():
    device = SmallDevice(2 * 64 * 64)
    fallback = MemoryFallback(position_blind(device), batch_size=4, multiple=16, overlap=16)
    batch = _tiles()
    np.testing.assert_array_equal(fallback(batch, _corners(batch)), _blur3(batch))
    assert fallback.batch_size == 2
    assert fallback.take_notes() == ["out of device memory: batch reduced to 2"]
    device.calls.clear()
    fallback(batch, _corners(batch))
    assert device.calls == [(2, 64, 64), (2, 64, 64)]  # no second failed attempt


def test_tile_halves_into_blended_sub_tiles():
    device = SmallDevice(32 * 32)
    fallback = MemoryFallback(position_blind(device), batch_size=2, multiple=16, overlap=16)
    batch = _tiles(2)
    np.testing.assert_allclose(fallback(batch, _corners(batch)), _blur3(batch), atol=1e-6)
    assert fallback.tile_size == 32 and fallback.batch_size == 1
    assert fallback.take_notes() == ["out of device memory: batch reduced to 1",
                                     "out of device memory: tiles reduced to 32 px"]


def test_gives_up_with_a_clear_error_below_one_multiple():
    fallback = MemoryFallback(position_blind(SmallDevice(100)), batch_size=1, multiple=16,
                              overlap=16)
    with pytest.raises(OutOfMemory, match="even for a single 16 px tile"):
        fallback(_tiles(1, 64), _corners(_tiles(1, 64)))


def test_service_reports_the_step_down_and_the_result_is_unchanged():
    image = (np.random.default_rng(1).random((100, 150, 3)) * 255).astype(np.uint8)
    roomy = DeblurService([SmallDeviceEngine(10**9)]).deblur(JobSpec(image))[0]
    events = list(DeblurService([SmallDeviceEngine(2 * 64 * 64)]).run(JobSpec(image)))
    notes = [e.message for e in events if isinstance(e, Progress) and "memory" in e.message]
    assert notes == ["out of device memory: batch reduced to 2"]
    out = np.empty_like(image)
    for event in events:
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
    np.testing.assert_array_equal(out, roomy)
    assert issubclass(OutOfMemory, ResourceExhausted)  # RESOURCE_EXHAUSTED if all fails
