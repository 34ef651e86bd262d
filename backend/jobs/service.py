"""DeblurService: the core of the server. Picks the engine, validates parameters, plans
tiles and runs a job as a generator of events, checking a stop flag between tiles."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .. import __version__
from ..blur_kernel import checked_kernel
from ..engine.base import Engine
from ..errors import Cancelled, EngineUnavailable, InvalidRequest, OsddError
from ..types import (
    Done,
    JobEvent,
    JobSpec,
    Limits,
    PixelType,
    Progress,
    Region,
    ServerInfo,
    TileResult,
)
from .fallback import MemoryFallback
from .params import resolve_params
from .pixels import from_float, split_alpha, to_float
from .tiling import TileAssembler, TilePlan, plan_tiles, process_batch, tile_batches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedJob:
    """What checking a job settled: the engine, every parameter, the normalised kernel
    (None: estimate one), the rectangle wanted back, the area deblurred for it (keep plus
    the tile overlap) and that area's tile plan."""

    engine: Engine
    params: dict[str, float]
    kernel: np.ndarray | None
    keep: Region
    area: Region
    plan: TilePlan


class DeblurService:
    """Owns the engines of one device and runs jobs on them; knows nothing of gRPC."""

    def __init__(self, engines: Sequence[Engine], limits: Limits | None = None,
                 device: str = "cpu") -> None:
        if not engines:
            raise ValueError("at least one engine is needed")
        self.engines = {e.name: e for e in engines}
        self.limits = limits or Limits()
        self.device = device
        self._failed: dict[str, str] = {}

    def load(self) -> None:
        """Load and warm up every engine; an engine that fails is reported, not fatal."""
        for name, engine in self.engines.items():
            started = time.perf_counter()
            try:
                engine.load()
            except OsddError as exc:  # a known problem (weights, device): its message says it
                log.error("engine %s failed to load: %s", name, exc)
                self._failed[name] = str(exc)
            except Exception as exc:  # an engine's own failure must not take the server down
                log.exception("engine %s failed to load", name)
                self._failed[name] = str(exc) or type(exc).__name__
            else:
                log.info("engine %s ready on %s (%.1f s)", name, engine.device,
                         time.perf_counter() - started)
        if len(self._failed) == len(self.engines):
            raise EngineUnavailable("no engine could be loaded: " + "; ".join(
                f"{k}: {v}" for k, v in self._failed.items()))

    @property
    def failed(self) -> dict[str, str]:
        """The engines that failed to load, with why."""
        return dict(self._failed)

    @property
    def default_engine(self) -> str:
        return next(name for name in self.engines if name not in self._failed)

    def info(self) -> ServerInfo:
        engines = tuple(e.info() for name, e in self.engines.items() if name not in self._failed)
        return ServerInfo(__version__, engines, self.default_engine, self.device, self.limits)

    def check(self, spec: JobSpec) -> CheckedJob:
        """Validate a job before any work: sizes, engine, parameters, kernel, keep."""
        height, width, channels = _shape(spec.image)
        self.limits.check_pixels(width, height)
        name = spec.engine or "auto"
        if name == "auto":
            name = self.default_engine
        if name not in self.engines:
            raise InvalidRequest(f"unknown engine {name!r}; available: "
                                 f"{', '.join(self.engines)} or 'auto'")
        if name in self._failed:
            raise EngineUnavailable(f"engine {name!r} failed to load: {self._failed[name]}")
        engine = self.engines[name]
        if spec.kernel is not None:
            if not engine.takes_kernel:
                takers = [n for n, e in self.engines.items() if e.takes_kernel]
                raise InvalidRequest(f"engine {name!r} does not take a blur kernel"
                                     + (f"; {', '.join(takers)} does" if takers else ""))
        kernel = None if spec.kernel is None else checked_kernel(spec.kernel)
        params = resolve_params(engine.info(), spec.params)
        keep = _keep_of(spec, height, width)
        # The blur is estimated on everything received; only `keep`, with the context its
        # tiles need at their edges, is deblurred.
        area = keep.grow(int(params["overlap"]), Region(0, 0, width, height))
        plan = _plan_for(engine, params, area.height, area.width)
        return CheckedJob(engine, params, kernel, keep, area, plan)

    def run(self, spec: JobSpec, should_stop: Callable[[], bool] = lambda: False,
            started: float | None = None) -> Iterator[JobEvent]:
        """Run one job. Yields Progress and TileResult (pixels in the request's pixel type,
        alpha copied from the input) and finally Done. Raises Cancelled when stopped."""
        job = JobRun(self, spec, should_stop, started)
        yield from job.start()
        for index in range(job.batches):
            yield from job.batch(index)
        yield job.finish()

    def deblur(self, spec: JobSpec) -> tuple[np.ndarray, str]:
        """Run a job to completion in this process (benchmarks, scripts): the whole output
        image in the input's pixel type (outside ``keep``, the input), and the engine's
        note ("" when it had none)."""
        out = np.array(spec.image)
        note = ""
        for event in self.run(spec):
            if isinstance(event, TileResult):
                out[event.region.slices] = event.pixels
            elif isinstance(event, Progress) and event.message:
                note = event.message
        return out, note


def _keep_of(spec: JobSpec, height: int, width: int) -> Region:
    full = Region(0, 0, width, height)
    keep = spec.keep or full
    if keep.is_empty() or keep.intersect(full) != keep:
        raise InvalidRequest(f"keep rectangle {keep.x},{keep.y},{keep.width}x{keep.height} "
                             f"must be non-empty and inside the {width}x{height} image")
    return keep


def _kept_part(tile: TileResult, area: Region, keep: Region, pixel_type: PixelType,
               alpha: np.ndarray | None) -> TileResult | None:
    """A tile of ``area`` as the part of it inside ``keep``, in image coordinates and the
    request's pixel type with its alpha; None when it lies in the context only."""
    placed = Region(tile.region.x + area.x, tile.region.y + area.y, tile.region.width,
                    tile.region.height)
    part = placed.intersect(keep)
    if part.is_empty():
        return None
    pixels = from_float(tile.pixels[part.relative_to(placed).slices], pixel_type)
    if alpha is not None:
        pixels = np.concatenate([pixels, alpha[part.slices]], axis=2)
    return TileResult(part, pixels)


def _plan_for(engine: Engine, params: dict[str, float], height: int, width: int) -> TilePlan:
    return plan_tiles(height, width, int(params["tile_size"]), int(params["overlap"]),
                      engine.multiple, engine.balanced_tiles)


def _shape(image: np.ndarray) -> tuple[int, int, int]:
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise InvalidRequest(f"image must be HxWxC with 1-4 channels, got shape {image.shape}")
    height, width, channels = image.shape
    if height <= 0 or width <= 0:
        raise InvalidRequest(f"image size must be positive, got {width}x{height}")
    return height, width, channels


class JobRun:
    """One job as steps a scheduler may interleave with other jobs' steps: start() (the
    checks, unless ``checked`` brings those made at the edge, and the engine's analysis of
    the whole image), then batch(k) for every k in range(batches), in any order, from any
    thread and at the same time (start first), each on any device whose service has the
    same engines. The result does not depend on the order or the devices (TileAssembler;
    a portable engine's batches all use the start's analysis). Each step gives its events,
    and finish() the Done that follows them all. Steps raise Cancelled once should_stop()
    is true."""

    def __init__(self, service: DeblurService, spec: JobSpec,
                 should_stop: Callable[[], bool] = lambda: False,
                 started: float | None = None, checked: CheckedJob | None = None) -> None:
        self.service = service
        self.spec = spec
        self._checked = checked
        self.should_stop = should_stop
        self.started = time.perf_counter() if started is None else started
        self.batches = 0
        self._busy = 0.0
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._devices: set[str] = set()  # where its batches ran

    def start(self, device: DeblurService | None = None) -> Iterator[JobEvent]:
        """The checks and the analysis, on ``device``'s engine (another device's service
        with the same engines; default: the job's own service)."""
        spec = self.spec
        job = self._checked or self.service.check(spec)
        self.job = job
        engine = self._engine_on(device)
        self._colour_alpha = split_alpha(spec.image)
        height, width, _ = spec.image.shape
        log.info("job %dx%dx%d %s on %s", width, height, spec.image.shape[2],
                 spec.pixel_type.value, engine.name)
        yield Progress(0, 0, "analysing")
        self._working = to_float(self._colour_alpha[0])
        t0 = time.perf_counter()
        self.prepared = self._prepare(engine)
        self._busy += time.perf_counter() - t0
        self._batch_size = engine.batch_size(job.plan.rows.size, job.plan.cols.size)
        self._processes = {engine: self._fallback(self.prepared)}
        self._assembler = TileAssembler(job.plan)
        self._batches = tile_batches(job.plan, self._batch_size)
        self.batches = len(self._batches)
        self._area = self._working[job.area.slices]
        yield Progress(0, len(job.plan.tiles), "deblurring", self.prepared.note)

    def _engine_on(self, device: DeblurService | None) -> Engine:
        return (device or self.service).engines[self.job.engine.name]

    def _prepare(self, engine: Engine):
        given = {} if self.job.kernel is None else {"kernel": self.job.kernel}
        return engine.prepare(self._working, self.job.params, self.spec.seed,
                              self.should_stop, **given)

    def _fallback(self, prepared) -> MemoryFallback:
        return MemoryFallback(prepared.placed, self._batch_size, self.job.engine.multiple,
                              int(self.job.params["overlap"]))

    def _process_on(self, engine: Engine) -> MemoryFallback:
        """The batch function for a device's ``engine``: the one prepared at the start when
        the engine's jobs are portable, else the job prepared once on that engine."""
        with self._prepare_lock:
            if engine not in self._processes:
                if engine.portable_jobs:
                    self._processes[engine] = next(iter(self._processes.values()))
                else:
                    self._processes[engine] = self._fallback(self._prepare(engine))
            return self._processes[engine]

    def batch(self, index: int, emit: Callable[[JobEvent], None] | None = None,
              device: DeblurService | None = None) -> list[JobEvent]:
        """Deblur batch `index` on ``device`` (as in start); its events (Progress, then
        the output regions it completed), passed to `emit` as they are made, in one order
        for the whole job."""
        if self.should_stop():
            raise Cancelled("job cancelled")
        job = self.job
        indices = self._batches[index]
        engine = self._engine_on(device)
        process = self._process_on(engine)
        t0 = time.perf_counter()
        outputs = process_batch(self._area, process, job.plan, indices,
                                job.engine.multiple, (job.area.y, job.area.x))
        with self._lock:  # so that two batches' events do not interleave
            self._busy += time.perf_counter() - t0
            results = [r for t, out in zip(indices, outputs, strict=True)
                       for r in self._assembler.add(t, out)]
            self._devices.add(engine.device)
            notes = process.take_notes()
            if notes:
                log.warning("job %s: %s", job.engine.name, "; ".join(notes))
            events: list[JobEvent] = [Progress(self._assembler.tiles_done, len(job.plan.tiles),
                                               "deblurring", "; ".join(notes))]
            alpha = self._colour_alpha[1]
            events += [part for result in results
                       if (part := _kept_part(result, job.area, job.keep, self.spec.pixel_type,
                                              alpha)) is not None]
            if emit is not None:
                for event in events:
                    emit(event)
        return events

    def finish(self) -> Done:
        """The job's last event, once every batch is done."""
        seconds = time.perf_counter() - self.started
        log.info("job done: %s, %.2f s in engine, %.2f s total", self.job.engine.name,
                 self._busy, seconds)
        devices = ",".join(sorted(self._devices)) or self.job.engine.device
        return Done(self.job.engine.name, devices, self._busy, seconds, self.prepared.kernel)
