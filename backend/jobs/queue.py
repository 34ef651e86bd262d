"""JobQueue: the jobs of a server, their scheduling, and the worker threads that run them
on its devices.

Up to ``max_running`` jobs are in progress at once (fewer when their pixels would pass
the budget below); the rest wait in a bounded FIFO. The workers take the steps of the
jobs in progress in turn: a job's analysis (``JobRun.start``), then its tile batches,
one batch per job per turn, so a small job submitted while a large one runs starts
within about one batch (an analysis, once begun, is not interrupted), and several
workers share the batches of a single job. Each device (a DeblurService with the same
engines built for it) has its own workers, so one job's batches are spread over every
device. A job's result does not depend on which worker ran which batch.

A submitted job is a JobHandle: iterate it for events (Accepted, Queued, Progress,
TileResult, Done); errors arrive as the domain exception, raised from the iteration. A
submitter that must not block a thread per job (the asyncio server) passes ``wake`` and
collects events with ``take()`` when woken. Cancelling a handle removes a waiting job at
once and stops a running one within a batch; it never touches another job.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from ..errors import Cancelled, InternalError, OsddError, ResourceExhausted, Unavailable
from ..types import Accepted, JobEvent, JobSpec, Queued, ServerInfo
from .service import CheckedJob, DeblurService, JobRun

log = logging.getLogger(__name__)
_END = object()


class JobHandle:
    """One submitted job as its submitter sees it."""

    def __init__(self, spec: JobSpec, started: float, owner: JobQueue,
                 wake: Callable[[], None] | None = None, client: str = "",
                 checked: CheckedJob | None = None) -> None:
        self.job_id = uuid.uuid4().hex[:12]
        self.client = client
        self.checked = checked
        self.spec: JobSpec | None = spec
        self.started = started
        self._owner = owner
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._wake = wake
        self.waited = False

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        """Stop the job: a waiting job leaves the queue now, a running one after its batch."""
        if not self._stop.is_set():
            self._stop.set()
            self._owner._withdraw(self)

    def __iter__(self) -> Iterator[JobEvent]:
        while True:
            item = self._events.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def take(self) -> tuple[list[JobEvent], BaseException | None, bool]:
        """Without waiting: the events that have arrived, the job's error if it ended with
        one (to raise after those events), and whether it has ended."""
        events: list[JobEvent] = []
        error: BaseException | None = None
        while True:
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return events, error, False
            if item is _END:
                return events, error, True
            if isinstance(item, BaseException):
                error = item
            else:
                events.append(item)

    def _put(self, item: object) -> None:
        self._events.put(item)
        if self._wake is not None:
            self._wake()

    def _finish(self, error: BaseException | None = None) -> None:
        self.spec = None  # frees the image as soon as the job ends
        if error is not None:
            self._put(error)
        self._put(_END)


#: Pixels of the jobs in progress together, as a multiple of the largest job allowed: a
#: job of the maximum size leaves room for small jobs beside it, but not for another
#: large one, so memory stays near what one job of the maximum size needs.
_PIXEL_BUDGET = 1.25


class _Running:
    """A job in progress: its handle, its steps, and which of them are taken or done."""

    def __init__(self, handle: JobHandle, run: JobRun, pixels: int) -> None:
        self.handle = handle
        self.run = run
        self.pixels = pixels
        self.started = False  # the start step has been taken
        self.ready = False  # ... and has finished: batches may be taken
        self.next_batch = 0
        self.batches_done = 0
        self.steps = 0  # steps being executed now
        self.error: BaseException | None = None

    def next_step(self) -> int | None:
        """-1 for the start step, a batch index, or None when nothing can be taken now."""
        if self.error is not None or self.handle.stop_requested:
            return None
        if not self.started:
            self.started = True
            return -1
        if self.ready and self.next_batch < self.run.batches:
            self.next_batch += 1
            return self.next_batch - 1
        return None

    @property
    def over(self) -> bool:
        """No step runs and none is left to run."""
        if self.steps:
            return False
        stopped = self.error is not None or self.handle.stop_requested
        return stopped or (self.ready and self.batches_done == self.run.batches)


class JobQueue:
    """Jobs waiting (bounded) and in progress, run by ``workers`` threads per device: the
    device of ``service`` (which checks jobs and describes the server) and those of
    ``devices``, services of the same engines built for further devices. The engines are
    loaded first; a further device whose engines do not all load is left out."""

    def __init__(self, service: DeblurService, max_queued: int,
                 on_ready: Callable[[], None] = lambda: None, *, workers: int = 1,
                 max_running: int | None = None,
                 devices: Sequence[DeblurService] = ()) -> None:
        self.service = service
        self.devices = [service, *devices]
        self.max_queued = max_queued
        self.workers = workers
        self.max_running = max_running or service.limits.max_concurrent_jobs
        self._budget = int(service.limits.max_pixels * _PIXEL_BUDGET)
        self._on_ready = on_ready
        self._pending: deque[JobHandle] = deque()
        self._running: list[_Running] = []
        self._client_turn = 0
        self._job_turn: dict[str, int] = {}
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._main, name="osdd-jobs", daemon=True)
        self._load_error: OsddError | None = None

    def start(self) -> None:
        self._thread.start()

    def info(self) -> ServerInfo:
        """The server's description, naming every device that runs jobs."""
        devices = ",".join(d.device for d in self.devices)
        return replace(self.service.info(), device=devices)

    @property
    def load_error(self) -> OsddError | None:
        """Why the engines could not be loaded, once that is known; None otherwise."""
        with self._cond:
            return self._load_error

    def check_room(self) -> None:
        """Raise the error submit() would raise now, if any (to fail before an upload)."""
        with self._cond:
            self._check_room()

    def _check_room(self) -> None:
        if self._load_error is not None:
            raise self._load_error
        if self._closed:
            raise Unavailable("the server is shutting down and takes no new jobs")
        if len(self._pending) >= self.max_queued:
            raise ResourceExhausted(
                f"the server's queue is full ({len(self._pending)} jobs waiting); "
                "try again when a job has finished")

    def submit(self, spec: JobSpec, started: float | None = None,
               wake: Callable[[], None] | None = None, client: str = "",
               checked: CheckedJob | None = None) -> JobHandle:
        """Queue a job. Raises ResourceExhausted when full, Unavailable when the queue is
        closing. ``wake`` is called (from any thread) after each event is put. ``client``
        names who asked: turns go client by client. ``checked``: what the edge's
        DeblurService.check settled for this job, so it is not checked again (None: the
        job is checked when it starts)."""
        handle = JobHandle(spec, time.perf_counter() if started is None else started, self,
                           wake, client, checked)
        with self._cond:
            self._check_room()
            self._pending.append(handle)
            self._admit()
            waiting = handle in self._pending
            position = self._pending.index(handle) + len(self._running) if waiting else 0
            handle.waited = waiting
            handle._put(Accepted(handle.job_id, position))
            self._cond.notify_all()
        return handle

    def close(self) -> None:
        """Take no new jobs; jobs already queued still run."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return bool(self._running) or bool(self._pending)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the queue is closed and drained; True when the workers have ended."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _withdraw(self, handle: JobHandle) -> None:
        with self._cond:
            if handle in self._pending:
                self._pending.remove(handle)
                handle._finish(Cancelled("job cancelled while waiting in the queue"))
                self._announce_positions()
            else:
                self._end_finished()
            self._cond.notify_all()

    def _announce_positions(self) -> None:
        ahead = len(self._running)
        for index, waiting in enumerate(self._pending):
            waiting._put(Queued(index + ahead))

    def _admit(self) -> None:
        """Start waiting jobs, first come first served, while there is room."""
        admitted = False
        while self._pending and len(self._running) < self.max_running:
            handle = self._pending[0]
            pixels = handle.spec.image.shape[0] * handle.spec.image.shape[1]
            in_progress = sum(job.pixels for job in self._running)
            if self._running and in_progress + pixels > self._budget:
                break
            self._pending.popleft()
            stop = handle._stop.is_set
            run = JobRun(self.service, handle.spec, stop, handle.started, handle.checked)
            self._running.append(_Running(handle, run, pixels))
            if handle.waited:
                handle._put(Queued(0))
            admitted = True
        if admitted:
            self._announce_positions()

    def _end_finished(self) -> None:
        """Deliver the end of every job that is over; admit waiting jobs in their place."""
        for job in [job for job in self._running if job.over]:
            self._running.remove(job)
            handle = job.handle
            if job.error is None and handle.stop_requested:
                job.error = Cancelled("job cancelled")
            if job.error is None:
                handle._put(job.run.finish())
            handle._finish(job.error)
        running = {job.handle.client for job in self._running}
        for client in [c for c in self._job_turn if c not in running]:
            del self._job_turn[client]
        self._admit()

    def _claim(self) -> tuple[_Running, int] | None:
        """The next step to run, round robin over the clients with jobs in progress and
        over each client's jobs (so a client with many jobs gets no more turns than one
        with a single job); None once the queue is closed and empty."""
        with self._cond:
            while True:
                self._end_finished()
                if (claimed := self._next_step()) is not None:
                    return claimed
                if self._closed and not self._pending and not self._running:
                    return None
                self._cond.wait()

    def _next_step(self) -> tuple[_Running, int] | None:
        clients = list(dict.fromkeys(job.handle.client for job in self._running))
        for c_offset in range(len(clients)):
            client = clients[(self._client_turn + c_offset) % len(clients)]
            jobs = [job for job in self._running if job.handle.client == client]
            first = self._job_turn.get(client, 0)
            for j_offset in range(len(jobs)):
                job = jobs[(first + j_offset) % len(jobs)]
                step = job.next_step()
                if step is not None:
                    self._job_turn[client] = (first + j_offset + 1) % len(jobs)
                    self._client_turn = (self._client_turn + c_offset + 1) % len(clients)
                    job.steps += 1
                    return job, step
        return None

    def _main(self) -> None:
        try:
            self.service.load()
        except OsddError as exc:
            log.error("%s", exc)
            self._fail_all(exc)
            return
        devices = [self.service] + [d for d in self.devices[1:] if self._loaded_like(d)]
        self.devices = devices
        self._on_ready()
        threads = [threading.Thread(target=self._work, args=(device,),
                                    name=f"osdd-worker-{n}", daemon=True)
                   for n, device in enumerate(d for d in devices for _ in range(self.workers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _loaded_like(self, device: DeblurService) -> bool:
        """Load a further device's engines; True when it offers what the first does."""
        try:
            device.load()
        except OsddError as exc:
            log.error("device %s left out: %s", device.device, exc)
            return False
        if device.failed != self.service.failed:
            log.error("device %s left out: its engines did not load as on %s (%s)",
                      device.device, self.service.device, "; ".join(
                          f"{k}: {v}" for k, v in device.failed.items()) or "all loaded")
            return False
        return True

    def _work(self, device: DeblurService) -> None:
        while (claimed := self._claim()) is not None:
            job, step = claimed
            error = self._step(job, step, device)
            with self._cond:
                job.steps -= 1
                if error is not None and job.error is None:
                    job.error = error
                elif step == -1:
                    job.ready = error is None
                else:
                    job.batches_done += 1
                self._end_finished()
                self._cond.notify_all()

    def _step(self, job: _Running, step: int, device: DeblurService) -> BaseException | None:
        """Run one step on ``device`` outside the lock; the error that ends the job, if any."""
        handle = job.handle
        try:
            if step == -1:
                for event in job.run.start(device):
                    handle._put(event)
            else:
                job.run.batch(step, handle._put, device)
            return None
        except OsddError as exc:
            log.info("job %s ended: %s", handle.job_id, exc)
            return exc
        except MemoryError:
            log.exception("job %s ran out of memory", handle.job_id)
            return ResourceExhausted("out of memory: try a smaller region or tile size")
        except Exception:
            log.exception("job %s failed", handle.job_id)
            return InternalError("internal error while deblurring; see the server log")

    def _fail_all(self, exc: OsddError) -> None:
        with self._cond:
            self._load_error = exc
            self._closed = True
            while self._pending:
                self._pending.popleft()._finish(exc)
