"""An engine whose work depends on where a tile lies (a blur that varies across the photo)
is told each tile's corner in the image it analysed: through the tile plan, a kept
region's offset and the memory fallback's sub-tiles alike."""

from collections.abc import Mapping

import numpy as np
import pytest

from backend.engine.base import Engine, PreparedJob
from backend.errors import OutOfMemory
from backend.jobs.service import DeblurService
from backend.types import JobSpec, ParamSpec, Region

SCALE = 1 / 1024


class WhereEngine(Engine):
    """Paints every pixel with its own row and column (times SCALE) from the corners it is
    given; runs out of memory on tiles larger than ``fits`` px a side."""

    name = "where"
    description = "paints pixel coordinates"
    multiple = 16
    default_tile_size = 64
    default_overlap = 16

    def __init__(self, fits: int = 10**6) -> None:
        self.fits = fits

    def engine_params(self) -> tuple[ParamSpec, ...]:
        return ()

    def prepare(self, image: np.ndarray, params: Mapping[str, float], seed,
                should_stop=lambda: False) -> PreparedJob:
        def process_at(batch: np.ndarray, origins) -> np.ndarray:
            if max(batch.shape[1:3]) > self.fits:
                raise OutOfMemory("simulated")
            out = np.zeros_like(batch)
            rows, cols = np.mgrid[:batch.shape[1], :batch.shape[2]].astype(np.float32)
            for tile, (top, left) in zip(out, origins, strict=True):
                tile[..., 0], tile[..., 1] = (rows + top) * SCALE, (cols + left) * SCALE
            return out

        return PreparedJob(process_at=process_at)


@pytest.mark.parametrize("fits", [10**6, 32])
def test_tiles_know_where_they_lie_in_the_photo(fits):
    image = np.zeros((150, 200, 3), np.float32)
    keep = Region(37, 21, 101, 90)
    out, _ = DeblurService([WhereEngine(fits)]).deblur(JobSpec(image, "where", keep=keep))
    rows, cols = np.mgrid[:150, :200].astype(np.float32) * SCALE
    part = keep.slices
    np.testing.assert_allclose(out[part][..., 0], rows[part], atol=1e-6)
    np.testing.assert_allclose(out[part][..., 1], cols[part], atol=1e-6)
    assert not out[:keep.y].any() and not out[:, :keep.x].any()  # outside keep: the input


def test_an_engine_gives_exactly_one_batch_function():
    with pytest.raises(TypeError, match="exactly one"):
        PreparedJob()
    with pytest.raises(TypeError, match="exactly one"):
        PreparedJob(lambda b: b, process_at=lambda b, o: b)
