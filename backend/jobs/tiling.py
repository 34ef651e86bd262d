"""Overlapping tiles with a seam-free blend, model-agnostic and reentrant.

`plan_tiles` lays tiles of one size over an image; `run_tiled` runs an engine's batch
function over them and yields every output region as soon as all tiles that contribute
to it are done. Output regions never overlap and cover the image exactly once.

Blending: along each axis, neighbouring tiles hand over inside a transition zone as wide
as the nominal overlap, with a raised-cosine ramp whose outer quarters are flat 0 / 1.
The per-axis weights of all tiles sum to exactly one, so no normalisation is needed, and
each tile's outermost `overlap / 4` pixels on an inner edge get weight zero: an engine
whose output is only wrong near tile edges (any local filter of radius <= overlap / 4)
gives the same result tiled as untiled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..engine.base import PlacedBatchFn
from ..errors import Cancelled, InternalError, InvalidRequest
from ..types import Progress, Region, TileResult


@dataclass(frozen=True)
class AxisPlan:
    """Tiles along one axis: their starts, common size, and how they hand over."""

    length: int
    size: int
    starts: tuple[int, ...]
    ramp: int  # width of each transition zone

    def zone(self, j: int) -> tuple[int, int]:
        """Transition zone between tile j and j + 1 (absolute coordinates)."""
        end = self.starts[j] + self.size
        return end - self.ramp, end

    def cuts(self) -> list[int]:
        """Boundaries of the output regions: the middle of each transition zone."""
        middles = [sum(self.zone(j)) // 2 for j in range(len(self.starts) - 1)]
        return [0, *middles, self.length]

    def support(self, j: int) -> tuple[int, int]:
        """Where tile j's weight is non-zero."""
        lo = 0 if j == 0 else self.zone(j - 1)[0] + self.ramp // 4
        hi = self.length if j == len(self.starts) - 1 else self.zone(j)[1] - self.ramp // 4
        return lo, hi

    def weights(self, j: int) -> np.ndarray:
        """Blend weight of tile j over its own pixels, float32 of length `size`."""
        pos = np.arange(self.starts[j], self.starts[j] + self.size, dtype=np.float64)
        w = np.ones(self.size)
        if j > 0:
            w *= _rise(pos, *self.zone(j - 1))
        if j < len(self.starts) - 1:
            w *= 1.0 - _rise(pos, *self.zone(j))
        return w.astype(np.float32)


def _rise(pos: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """0 on the first quarter of [lo, hi), raised cosine to 1 over the middle half, then 1.
    Symmetric about the middle, so rise + (1 - rise) of the neighbour is exactly one."""
    width = hi - lo
    a, b = lo + width / 4, hi - width / 4
    t = np.clip((pos + 0.5 - a) / max(b - a, 1e-9), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * t)


def _balanced_size(length: int, tile: int, overlap: int, multiple: int) -> int:
    """The smallest tile (a multiple of `multiple`, at most `tile`) that covers `length`
    with as few tiles as `tile` needs: same tile count, less redundant overlap."""
    if length <= tile:
        return tile
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    size = max(size, 2 * overlap)  # keeps each transition zone clear of the next
    return min(math.ceil(size / multiple) * multiple, tile)


def _plan_axis(length: int, tile: int, overlap: int) -> AxisPlan:
    if length <= tile:
        return AxisPlan(length, length, (0,), 0)
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    starts = tuple(min(i * stride, length - tile) for i in range(count))
    return AxisPlan(length, tile, starts, tile - stride)


@dataclass(frozen=True)
class TilePlan:
    """Tile windows (all the same size, row-major) and the output regions they produce."""

    rows: AxisPlan
    cols: AxisPlan

    @property
    def tiles(self) -> list[Region]:
        return [Region(x, y, self.cols.size, self.rows.size)
                for y in self.rows.starts for x in self.cols.starts]

    @property
    def outputs(self) -> list[Region]:
        ys, xs = self.rows.cuts(), self.cols.cuts()
        return [Region(xs[j], ys[i], xs[j + 1] - xs[j], ys[i + 1] - ys[i])
                for i in range(len(ys) - 1) for j in range(len(xs) - 1)]

    def contributors(self, out: Region) -> set[int]:
        """Indices of the tiles with non-zero weight inside an output region."""
        ncols = len(self.cols.starts)
        found = set()
        for ti in range(len(self.rows.starts)):
            y0, y1 = self.rows.support(ti)
            if not (y0 < out.bottom and out.y < y1):
                continue
            for tj in range(ncols):
                x0, x1 = self.cols.support(tj)
                if x0 < out.right and out.x < x1:
                    found.add(ti * ncols + tj)
        return found


def plan_tiles(height: int, width: int, tile_size: int, overlap: int,
               multiple: int = 1, balanced: bool = False) -> TilePlan:
    """Plan tiles of `tile_size` (a multiple of `multiple`) overlapping by at least `overlap`.

    Edge tiles are moved inside the image rather than shrunk; an image side shorter than a
    tile gets one tile of that side's length (run_tiled pads it up to the multiple).
    balanced: treat tile_size as a maximum and use, per axis, the smallest tile that needs
    no more tiles (for engines whose cost grows with the tile area but not its shape).
    """
    if height <= 0 or width <= 0:
        raise InvalidRequest(f"image size must be positive, got {width}x{height}")
    if tile_size <= 0 or tile_size % multiple:
        raise InvalidRequest(f"tile_size must be a positive multiple of {multiple}, "
                             f"got {tile_size}")
    if not 0 <= overlap <= tile_size // 2:
        raise InvalidRequest(f"overlap must be between 0 and half the tile size "
                             f"({tile_size // 2}), got {overlap}")
    rows, cols = tile_size, tile_size
    if balanced:
        rows = _balanced_size(height, tile_size, overlap, multiple)
        cols = _balanced_size(width, tile_size, overlap, multiple)
    return TilePlan(_plan_axis(height, rows, overlap), _plan_axis(width, cols, overlap))


def _pad_to_multiple(batch: np.ndarray, multiple: int) -> np.ndarray:
    _, h, w, _ = batch.shape
    ph, pw = -h % multiple, -w % multiple
    if not (ph or pw):
        return batch
    return np.pad(batch, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="symmetric")


def tile_batches(plan: TilePlan, batch_size: int) -> list[range]:
    """The tile indices of each batch, in order."""
    count = len(plan.tiles)
    return [range(first, min(first + batch_size, count))
            for first in range(0, count, batch_size)]


def process_batch(image: np.ndarray, process: PlacedBatchFn, plan: TilePlan, indices: range,
                  multiple: int = 1, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """The engine's output for the tiles `indices` of `image`, cut back to the tile size;
    `origin`: where `image`'s corner (row, column) lies in the image the engine analysed."""
    tiles = plan.tiles
    batch = np.stack([image[tiles[t].slices] for t in indices])
    padded = _pad_to_multiple(batch, multiple)  # at the bottom and right: corners stay
    result = process(padded, [(origin[0] + tiles[t].y, origin[1] + tiles[t].x)
                              for t in indices])
    if result.shape != padded.shape:
        raise InternalError(f"engine returned {result.shape} for tiles of {padded.shape}")
    h, w = batch.shape[1:3]
    return result[:, :h, :w]


class TileAssembler:
    """Blends tile outputs into the plan's output regions. Each region is summed over its
    tiles in tile order, whatever order the tiles arrive in, so the result does not depend
    on which worker finished first; a tile's pixels are dropped once every region it
    feeds is out. Not thread-safe: callers serialise add()."""

    def __init__(self, plan: TilePlan) -> None:
        self.plan = plan
        self._tiles = plan.tiles
        self._outputs = plan.outputs
        self._needed = [plan.contributors(region) for region in self._outputs]
        self._feeds: dict[int, list[int]] = {}
        for k, needed in enumerate(self._needed):
            for t in needed:
                self._feeds.setdefault(t, []).append(k)
        self._left = {t: len(ks) for t, ks in self._feeds.items()}
        self._row_w = [plan.rows.weights(i) for i in range(len(plan.rows.starts))]
        self._col_w = [plan.cols.weights(j) for j in range(len(plan.cols.starts))]
        self._weighted: dict[int, np.ndarray] = {}
        self._done: set[int] = set()
        self._emitted = [False] * len(self._outputs)

    @property
    def tiles_done(self) -> int:
        return len(self._done)

    def add(self, t: int, tile_out: np.ndarray) -> list[TileResult]:
        """Take tile `t`'s output; returns the regions that are now complete."""
        i, j = divmod(t, len(self.plan.cols.starts))
        weight = self._row_w[i][:, None, None] * self._col_w[j][None, :, None]
        self._weighted[t] = weight * tile_out
        self._done.add(t)
        results = []
        for k in self._feeds.get(t, []):
            if not self._emitted[k] and self._needed[k] <= self._done:
                self._emitted[k] = True
                results.append(TileResult(self._outputs[k], self._region(k)))
                for s in self._needed[k]:
                    self._left[s] -= 1
                    if not self._left[s]:
                        del self._weighted[s]
        return results

    def _region(self, k: int) -> np.ndarray:
        region = self._outputs[k]
        tiles = sorted(self._needed[k])
        channels = self._weighted[tiles[0]].shape[2]
        out = np.zeros((region.height, region.width, channels), np.float32)
        for s in tiles:
            part = self._tiles[s].intersect(region)
            out[part.relative_to(region).slices] += \
                self._weighted[s][part.relative_to(self._tiles[s]).slices]
        return out


def run_tiled(image: np.ndarray, process: PlacedBatchFn, plan: TilePlan, *, multiple: int = 1,
              batch_size: int = 1, should_stop: Callable[[], bool] = lambda: False,
              origin: tuple[int, int] = (0, 0)) -> Iterator[Progress | TileResult]:
    """Run `process` over the tiles of `plan` and blend.

    image: float32 HWC, whose corner lies at `origin` in the image the engine analysed
    (see process_batch). Yields Progress after every batch and TileResult (float32 HWC) for
    each output region once final. `should_stop` is checked before every batch; when it
    returns True, raises Cancelled. Holds no state between calls.
    """
    assembler = TileAssembler(plan)
    total = len(plan.tiles)
    for indices in tile_batches(plan, batch_size):
        if should_stop():
            raise Cancelled("job cancelled")
        results = []
        for t, tile_out in zip(indices, process_batch(image, process, plan, indices, multiple,
                                                         origin),
                               strict=True):
            results += assembler.add(t, tile_out)
        yield Progress(assembler.tiles_done, total, "deblurring")
        yield from results
