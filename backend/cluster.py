"""`osdd batch --ray`: the same batch as a Ray Data pipeline, for collections beyond what a
few servers get through. Each Ray worker hosts its own engines (loaded once, on the device
Ray gave it) and deblurs whole files read from and written to storage every worker sees;
this process plans the batch (files already done are skipped, as for servers), streams
the list and reports each file as it finishes. Needs the `cluster` extra (ray[data])."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .batch import (
    DONE,
    FAILED,
    WAITING,
    BatchItem,
    ItemUpdate,
    save_result,
    unexpected_failure,
    with_channels,
)
from .engine.base import Engine
from .engine.registry import EngineOptions, build_engines
from .errors import ConfigError, OsddError
from .images import read_image_file
from .jobs.params import resolve_params
from .types import JobOptions, JobSpec

log = logging.getLogger(__name__)
#: Seconds a local Ray instance's control store gets to start (see _start).
_LOCAL_START_S = 120
#: Tries at starting a local Ray instance (see _start).
_LOCAL_TRIES = 3
#: `--ray local`: start a private Ray instance on this machine for the batch.
LOCAL = "local"


@dataclass(frozen=True)
class RayPlan:
    """How the batch is spread: ``workers`` Ray actors, each with these resources."""

    workers: int
    cpus: float
    gpus: float


def plan_workers(resources: dict[str, float], nodes: int, workers: int | None) -> RayPlan:
    """One actor per GPU of the cluster, or, without GPUs, one per node; each CPU actor
    gets its share of the CPUs (an engine's FFTs use every core it is given)."""
    gpus = int(resources.get("GPU", 0))
    cpus = max(1.0, float(resources.get("CPU", 1)))
    if workers is None:
        workers = gpus or max(1, nodes)
    if gpus:
        return RayPlan(workers, 1.0, 1.0)
    return RayPlan(workers, max(1.0, float(cpus // workers)), 0.0)


def check_job(options: JobOptions, engine_options: EngineOptions) -> None:
    """Refuse an unknown engine, missing weights or a bad parameter here, before any
    cluster work (engines are built, not loaded: that happens on the workers)."""
    resolve_params(_engines(options, engine_options)[0].info(), options.params)


def _engines(options: JobOptions, engine_options: EngineOptions) -> list[Engine]:
    """The engines a worker hosts: the one the job names, or the default set for auto."""
    return build_engines(None if options.engine == "auto" else [options.engine],
                         engine_options)


def run_on_ray(items: list[BatchItem], options: JobOptions, engine_options: EngineOptions,
               address: str, workers: int | None = None) -> Iterator[ItemUpdate]:
    """Deblur every waiting item on the Ray cluster at ``address`` ("auto", "ray://...",
    or LOCAL). Yields an update per file as it finishes; a file's failure fails only it."""
    check_job(options, engine_options)
    waiting = [i for i, item in enumerate(items) if item.status == WAITING]
    if not waiting:
        return
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        _start(ray, address)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the batch's own bar reports progress
        nodes = sum(node["Alive"] for node in ray.nodes())
        plan = plan_workers(ray.cluster_resources(), nodes, workers)
        log.info("ray batch: %d workers, %.0f CPU and %.0f GPU each", plan.workers, plan.cpus,
                 plan.gpus)
        files = ray.data.from_items([{"index": i, "source": str(items[i].source),
                                      "output": str(items[i].output)} for i in waiting])
        results = files.map_batches(
            FileDeblurrer, fn_constructor_kwargs={"options": options,
                                                  "engine_options": engine_options},
            batch_size=1, concurrency=plan.workers, num_cpus=plan.cpus, num_gpus=plan.gpus)
        for row in results.iter_rows():
            index, error = int(row["index"]), str(row["error"])
            item = items[index]
            item.status, item.error = (FAILED, error) if error else (DONE, "")
            item.fraction = 0.0 if error else 1.0
            yield ItemUpdate(index, replace(item))
    finally:
        if started:
            ray.shutdown()


class FileDeblurrer:
    """The work of one Ray actor: engines loaded once, then whole files in, files out, as a
    DeblurService runs them in a server. Returns an error text per file ("" when done)."""

    def __init__(self, options: JobOptions, engine_options: EngineOptions) -> None:
        from .jobs.service import DeblurService

        self._service = DeblurService(_engines(options, engine_options))
        self._service.load()
        self._options = options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        errors = [self.deblur_file(Path(source), Path(output))
                  for source, output in zip(batch["source"], batch["output"], strict=True)]
        return {"index": list(batch["index"]), "error": errors}

    def deblur_file(self, source: Path, output: Path) -> str:
        try:
            image, meta = read_image_file(source)
            o = self._options
            out, _ = self._service.deblur(JobSpec(with_channels(image), o.engine, o.params,
                                                  o.seed))
            save_result(output, image, out, meta)
            return ""
        except OsddError as exc:
            return str(exc)
        except Exception as exc:  # one odd file must not end the batch
            return unexpected_failure(source, exc)


def _start(ray, address: str) -> None:
    """Connect to the cluster at ``address``, or start the local instance. A local instance
    gets more time and more than one try: on a busy 2-core machine just set up, its
    processes (Python ones, importing Ray from a cold disk) took longer than Ray's waits,
    its control store's 30 s (a knob of Ray's; a user's value wins) and its node's 30 s
    (fixed), and a second try, on a warm disk, comes up."""
    local = address == LOCAL
    if local:
        os.environ.setdefault("RAY_gcs_server_port_wait_time_s", str(_LOCAL_START_S))
    for attempt in range(1, (_LOCAL_TRIES if local else 1) + 1):
        try:
            ray.init(address=None if local else address, include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
            return
        except Exception as exc:  # Ray says "timed out during startup" as a bare Exception
            error = exc
            ray.shutdown()  # what the failed start left running
            if local:
                log.warning("local Ray instance did not start (try %d of %d): %s", attempt,
                            _LOCAL_TRIES, exc)
    raise ConfigError(f"cannot reach the Ray cluster at {address}: {error}") from None


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("osdd batch --ray needs Ray: pip install 'osdd-deblur[cluster]' "
                          "(ray[data])") from None
    return ray
