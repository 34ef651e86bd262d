import numpy as np
import pytest
from scipy import ndimage

from backend.engine.base import position_blind
from backend.errors import Cancelled, InvalidRequest
from backend.jobs.tiling import plan_tiles, run_tiled
from backend.types import TileResult

KERNEL = np.random.default_rng(0).random((7, 7)).astype(np.float32)
KERNEL /= KERNEL.sum()


def convolve(batch: np.ndarray) -> np.ndarray:
    """A shift-invariant engine: a fixed 7x7 convolution per tile (wrong near tile edges)."""
    return ndimage.correlate(batch, KERNEL[None, :, :, None], mode="reflect")


def assemble(image, plan, **kwargs):
    out = np.full(image.shape, np.nan, np.float32)
    coverage = np.zeros(image.shape[:2], np.int32)
    for event in run_tiled(image, position_blind(convolve), plan, **kwargs):
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
            coverage[event.region.slices] += 1
    return out, coverage


@pytest.mark.parametrize("balanced", [False, True])
@pytest.mark.parametrize("shape", [(100, 130), (257, 190), (64, 300), (31, 45)])
@pytest.mark.parametrize("tile,overlap", [(64, 16), (48, 24), (96, 32), (128, 40)])
def test_tiled_equals_untiled_away_from_border(shape, tile, overlap, balanced):
    image = np.random.default_rng(1).random((*shape, 3)).astype(np.float32)
    whole = convolve(image[None])[0]
    plan = plan_tiles(*shape, tile, overlap, balanced=balanced)
    out, coverage = assemble(image, plan, batch_size=3)
    assert (coverage == 1).all(), "regions must cover the image exactly once"
    border = 4
    inner = (slice(border, -border), slice(border, -border))
    np.testing.assert_allclose(out[inner], whole[inner], atol=1e-5)


def test_edge_tiles_move_inside_and_keep_the_tile_size():
    plan = plan_tiles(1000, 700, 512, 64, multiple=64)
    assert all(t.width == 512 and t.height == 512 for t in plan.tiles)
    assert all(t.right <= 700 and t.bottom <= 1000 and t.x >= 0 for t in plan.tiles)


def test_balanced_tiles_are_smaller_but_no_more_numerous():
    fixed = plan_tiles(1200, 1700, 1536, 192)
    balanced = plan_tiles(1200, 1700, 1536, 192, balanced=True)
    assert len(balanced.tiles) == len(fixed.tiles) == 2
    assert balanced.tiles[0].width < 1000 and balanced.tiles[0].height == 1200
    area = sum(t.area for t in balanced.tiles)
    assert area < 0.65 * sum(t.area for t in fixed.tiles)
    for length in range(200, 3000, 37):  # never more tiles, always within the maximum
        a = plan_tiles(length, 64, 512, 64, multiple=64)
        b = plan_tiles(length, 64, 512, 64, multiple=64, balanced=True)
        assert len(b.tiles) <= len(a.tiles)
        assert b.rows.size <= 512 and (b.rows.size % 64 == 0 or b.rows.size == length)


def test_small_image_is_padded_to_the_multiple_for_the_engine():
    seen = []

    def engine(batch):
        seen.append(batch.shape)
        return batch * 2

    image = np.ones((30, 50, 1), np.float32)
    events = list(run_tiled(image, position_blind(engine),
                            plan_tiles(30, 50, 64, 16, multiple=64), multiple=64))
    assert seen == [(1, 64, 64, 1)]
    assert events[-1].pixels.shape == (30, 50, 1) and (events[-1].pixels == 2).all()


def test_regions_are_emitted_before_the_last_tile():
    image = np.zeros((300, 300, 1), np.float32)
    plan = plan_tiles(300, 300, 64, 16)
    events = list(run_tiled(image, position_blind(convolve), plan))
    first_tile = next(i for i, e in enumerate(events) if isinstance(e, TileResult))
    assert first_tile < len(events) // 2


def test_stop_flag_is_checked_between_tiles():
    calls = []

    def engine(batch):
        calls.append(1)
        return batch

    image = np.zeros((200, 200, 1), np.float32)
    gen = run_tiled(image, position_blind(engine), plan_tiles(200, 200, 64, 16),
                    should_stop=lambda: len(calls) >= 2)
    with pytest.raises(Cancelled):
        list(gen)
    assert len(calls) == 2


@pytest.mark.parametrize("tile,overlap", [(0, 0), (100, 60), (96, -1)])
def test_bad_tile_settings_are_rejected(tile, overlap):
    with pytest.raises(InvalidRequest):
        plan_tiles(100, 100, tile, overlap)


def test_tile_size_must_respect_the_multiple():
    with pytest.raises(InvalidRequest, match="multiple of 64"):
        plan_tiles(100, 100, 100, 16, multiple=64)
