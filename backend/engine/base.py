"""What every engine provides to DeblurService: a description of its parameters and a
per-job batch function. Job state lives in the closure `prepare` returns, never on the
engine, so one engine serves concurrent jobs safely."""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..types import EngineInfo, ParamSpec

BatchFn = Callable[[np.ndarray], np.ndarray]
"""Engine batch: float32 NHWC in, float32 NHWC of the same shape out."""

PlacedBatchFn = Callable[[np.ndarray, Sequence[tuple[int, int]]], np.ndarray]
"""A batch function also told where each tile's top-left corner (row, column) lies in the
image ``prepare`` analysed: for work that varies across the image (a blur that does)."""


def position_blind(process: BatchFn) -> PlacedBatchFn:
    """``process`` as a PlacedBatchFn that ignores where the tiles lie."""
    return lambda batch, origins: process(batch)


@dataclass(frozen=True)
class PreparedJob:
    """A job's batch function, plus a note for the user (e.g. a fallback the engine took)
    and, for an engine that works with one, the blur kernel it removes (sent in Done).
    An engine whose work depends on where a tile lies gives ``process_at`` instead."""

    process: BatchFn | None = None
    note: str = ""
    kernel: np.ndarray | None = None
    process_at: PlacedBatchFn | None = None

    def __post_init__(self) -> None:
        if (self.process is None) == (self.process_at is None):
            raise TypeError("a PreparedJob needs exactly one of process and process_at")

    @property
    def placed(self) -> PlacedBatchFn:
        """The batch function, told where the tiles lie (whether it uses that or not)."""
        return self.process_at or position_blind(self.process)


class Engine(abc.ABC):
    """A deblurring method run tile by tile on float32 images in [0, 1]."""

    name: str
    description: str
    multiple: int = 1  # tile sides the engine accepts must be multiples of this
    default_tile_size: int = 512
    default_overlap: int = 64
    max_tile_size: int = 4096
    balanced_tiles: bool = False  # tile_size is a maximum; see backend.jobs.tiling.plan_tiles
    device: str = "cpu"
    #: Whether `prepare` accepts a given blur kernel (non-blind mode) instead of estimating.
    takes_kernel: bool = False
    #: Whether a job this engine prepared may run its batches on the same engine built for
    #: another device: true when the batch function holds nothing of this device (the
    #: classical engine's holds a kernel in NumPy). An engine whose batches run on its
    #: device's model says False, and each device prepares the job on its own engine.
    portable_jobs: bool = True

    @abc.abstractmethod
    def engine_params(self) -> tuple[ParamSpec, ...]:
        """The engine's own parameters (tile parameters are added by `info`)."""

    @abc.abstractmethod
    def prepare(self, image: np.ndarray, params: Mapping[str, float],
                seed: int | None, should_stop: Callable[[], bool] = lambda: False
                ) -> PreparedJob:
        """Analyse a whole job. image: float32 HWC in [0, 1], C = 1 or 3 (no alpha);
        params: every parameter of `info()`, validated, defaults filled in. A long analysis
        checks `should_stop` often and raises Cancelled when it turns True, so that a
        cancelled job frees the worker at once. An engine with ``takes_kernel`` also gets
        ``kernel=`` (float32, square, odd, sums to 1) when the client gave one."""

    def load(self) -> None:  # noqa: B027 - most engines have nothing to load
        """Load weights and warm up; called once before the first job."""

    def batch_size(self, tile_height: int, tile_width: int) -> int:
        """How many tiles of this size to process at once."""
        return 1

    def info(self) -> EngineInfo:
        tiles = (
            ParamSpec("tile_size", "int", self.default_tile_size, self.multiple,
                      self.max_tile_size, "Tile side in pixels; larger tiles use more memory. "
                      f"A multiple of {self.multiple}.", step=self.multiple),
            ParamSpec("overlap", "int", self.default_overlap, 0, self.max_tile_size // 2,
                      "Overlap between neighbouring tiles in pixels (at most half a tile); "
                      "blended smoothly."),
        )
        return EngineInfo(self.name, self.description, self.device,
                          self.engine_params() + tiles)
