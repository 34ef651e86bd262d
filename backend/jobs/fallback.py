"""Out-of-memory fallback: when a batch does not fit on the device, halve the batch, then
the tile, and carry on, instead of failing the job.

Smaller tiles are processed as sub-tiles of the planned tile (blended the same way), so
the job's tile plan, and the output regions already sent to the client, do not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine.base import PlacedBatchFn
from ..errors import OutOfMemory
from ..types import TileResult
from .tiling import plan_tiles, run_tiled


@dataclass
class MemoryFallback:
    """Wraps an engine's batch function; remembers the largest batch and tile that fit.

    notes: messages for the user, one per step down, taken by the caller to report.
    """

    process: PlacedBatchFn
    batch_size: int
    multiple: int
    overlap: int
    tile_size: int | None = None  # largest tile side that fit; None until one did not
    notes: list[str] = field(default_factory=list)

    def __call__(self, batch: np.ndarray, origins: Sequence[tuple[int, int]]) -> np.ndarray:
        parts = [self._run(batch[i:i + self.batch_size], origins[i:i + self.batch_size])
                 for i in range(0, len(batch), self.batch_size)]
        return np.concatenate(parts)

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def _run(self, batch: np.ndarray, origins: Sequence[tuple[int, int]]) -> np.ndarray:
        side = max(batch.shape[1:3])
        if self.tile_size is not None and side > self.tile_size:
            return np.stack([self._subtiled(tile, at)
                             for tile, at in zip(batch, origins, strict=True)])
        try:
            return self.process(batch, origins)
        except OutOfMemory:
            if len(batch) > 1:
                self.batch_size = max(1, len(batch) // 2)
                self.notes.append(f"out of device memory: batch reduced to {self.batch_size}")
                return self(batch, origins)
            smaller = (side // 2) // self.multiple * self.multiple
            if smaller < self.multiple:
                raise OutOfMemory(f"out of device memory even for a single {side} px tile; "
                                  "free memory on the device or use a smaller tile_size"
                                  ) from None
            self.tile_size = smaller
            self.notes.append(f"out of device memory: tiles reduced to {smaller} px")
            return self._subtiled(batch[0], origins[0])[None]

    def _subtiled(self, tile: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
        h, w = tile.shape[:2]
        plan = plan_tiles(h, w, self.tile_size, min(self.overlap, self.tile_size // 2),
                          self.multiple)
        out = np.empty_like(tile)
        for event in run_tiled(tile, self, plan, multiple=self.multiple,
                               batch_size=self.batch_size, origin=origin):
            if isinstance(event, TileResult):
                out[event.region.slices] = event.pixels
        return out
