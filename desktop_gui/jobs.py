"""DeblurJob: one deblur of an image region as a generator of updates, for a worker thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from backend.errors import Cancelled, InternalError, InvalidRequest, OsddError
from backend.rpc.client import DeblurCall, DeblurClient
from backend.types import Done, JobOptions, Progress, Region, TileResult


@dataclass(frozen=True)
class TilePainted:
    """Final pixels for `region` (image coordinates, inside the job's region)."""

    region: Region
    pixels: np.ndarray


@dataclass(frozen=True)
class JobProgress:
    """Tiles done of total, seconds since the start and an estimate of those left."""

    tiles_done: int
    tiles_total: int
    elapsed: float
    remaining: float | None
    stage: str
    message: str = ""


@dataclass(frozen=True)
class JobFinished:
    """The whole result for `region`; the caller applies it to the document. ``kernel``:
    the blur the engine removed (None for engines that work without one)."""

    region: Region
    pixels: np.ndarray
    engine: str
    device: str
    seconds: float
    kernel: np.ndarray | None = None


JobUpdate = TilePainted | JobProgress | JobFinished


class DeblurJob:
    """Deblurs `region` of `image` (or all of it) through `client`. The pixels needed are
    copied at construction, so the caller's image may change meanwhile. Iterate run() on a
    worker thread; cancel() may be called from any thread and stops the server's job."""

    def __init__(self, client: DeblurClient, image: np.ndarray, region: Region | None,
                 settings: JobOptions,
                 clock: Callable[[], float] = time.monotonic) -> None:
        full = Region(0, 0, image.shape[1], image.shape[0])
        self.region = full if region is None else region.intersect(full)
        if self.region.is_empty():
            raise InvalidRequest(f"the region {region} is outside the "
                                 f"{full.width}x{full.height} image")
        self._sent = self.region.grow(max(settings.margin, 0), full)
        self._crop = np.array(image[self._sent.slices])
        self._client = client
        self._settings = settings
        self._clock = clock
        self._cancelled = threading.Event()
        self._call: DeblurCall | None = None
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        with self._lock:
            self._cancelled.set()
            if self._call is not None:
                self._call.cancel()

    def run(self) -> Iterator[JobUpdate]:
        """Updates as the server sends them; raises OsddError (Cancelled after cancel())."""
        try:
            yield from self._run()
        except OsddError:
            if self.cancelled:
                raise Cancelled("deblurring was cancelled; the image is unchanged") from None
            raise

    def _run(self) -> Iterator[JobUpdate]:
        start = self._clock()
        s = self._settings
        target, sent = self.region, self._sent
        # The context was copied with the job: all of it is sent (the blur is estimated on
        # it) and only `target` comes back.
        call = self._client.deblur(self._crop, engine=s.engine, params=s.params, seed=s.seed,
                                   keep=target.relative_to(sent), origin=(sent.x, sent.y))
        with self._lock:
            self._call = call
            if self.cancelled:
                call.cancel()
        result = np.array(self._crop[target.relative_to(sent).slices])
        for event in call:
            if isinstance(event, TileResult):  # in image coordinates, inside `target`
                result[event.region.relative_to(target).slices] = event.pixels
                yield TilePainted(event.region, event.pixels)
            elif isinstance(event, Progress):
                elapsed = self._clock() - start
                done, total = event.tiles_done, event.tiles_total
                remaining = elapsed / done * (total - done) if done and total else None
                yield JobProgress(done, total, elapsed, remaining, event.stage, event.message)
            elif isinstance(event, Done):
                yield JobFinished(target, result, event.engine, event.device,
                                  self._clock() - start, event.kernel)
                return
        if self.cancelled:
            raise Cancelled("deblurring was cancelled; the image is unchanged")
        raise InternalError("the server ended the job without a result")
