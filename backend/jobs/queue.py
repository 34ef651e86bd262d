"""JobQueue: a bounded FIFO of jobs and the one worker thread that runs them on a device.

A submitted job is a JobHandle: iterate it for events (Accepted, Queued, Progress,
TileResult, Done); errors arrive as the domain exception, raised from the iteration. A
submitter that must not block a thread per job (the asyncio server) passes ``wake`` and
collects events with ``take()`` when woken. Cancelling a handle removes a waiting job at
once and stops a running one within a tile.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator

from ..errors import Cancelled, InternalError, OsddError, ResourceExhausted, Unavailable
from ..types import Accepted, JobEvent, JobSpec, Queued
from .service import DeblurService

log = logging.getLogger(__name__)
_END = object()


class JobHandle:
    """One submitted job as its submitter sees it."""

    def __init__(self, spec: JobSpec, started: float, owner: JobQueue,
                 wake: Callable[[], None] | None = None) -> None:
        self.job_id = uuid.uuid4().hex[:12]
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
        """Stop the job: a waiting job leaves the queue now, a running one after its tile."""
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


class JobQueue:
    """Bounded FIFO in front of one worker thread; the worker loads the engines first."""

    def __init__(self, service: DeblurService, max_queued: int,
                 on_ready: Callable[[], None] = lambda: None) -> None:
        self.service = service
        self.max_queued = max_queued
        self._on_ready = on_ready
        self._pending: deque[JobHandle] = deque()
        self._running: JobHandle | None = None
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="osdd-worker", daemon=True)
        self._load_error: OsddError | None = None

    def start(self) -> None:
        self._thread.start()

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
               wake: Callable[[], None] | None = None) -> JobHandle:
        """Queue a job (already checked by the service). Raises ResourceExhausted when full,
        Unavailable when the queue is closing. ``wake`` is called (from any thread) after
        each event is put."""
        handle = JobHandle(spec, time.perf_counter() if started is None else started, self,
                           wake)
        with self._cond:
            self._check_room()
            position = len(self._pending) + (self._running is not None)
            handle.waited = position > 0
            self._pending.append(handle)
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
            return self._running is not None or bool(self._pending)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the queue is closed and drained; True when the worker has ended."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _withdraw(self, handle: JobHandle) -> None:
        with self._cond:
            if handle in self._pending:
                self._pending.remove(handle)
                handle._finish(Cancelled("job cancelled while waiting in the queue"))
                self._announce_positions()

    def _announce_positions(self) -> None:
        ahead = self._running is not None
        for index, waiting in enumerate(self._pending):
            waiting._put(Queued(index + ahead))

    def _next(self) -> JobHandle | None:
        with self._cond:
            self._running = None
            while not self._pending and not self._closed:
                self._cond.wait()
            if not self._pending:
                return None
            self._running = self._pending.popleft()
            if self._running.waited:
                self._running._put(Queued(0))
            self._announce_positions()
            return self._running

    def _work(self) -> None:
        try:
            self.service.load()
        except OsddError as exc:
            log.error("%s", exc)
            self._fail_all(exc)
            return
        self._on_ready()
        while (handle := self._next()) is not None:
            self._run(handle)

    def _run(self, handle: JobHandle) -> None:
        spec = handle.spec
        if spec is None or handle.stop_requested:
            handle._finish(Cancelled("job cancelled"))
            return
        error: BaseException | None = None
        try:
            for event in self.service.run(spec, lambda: handle.stop_requested, handle.started):
                handle._put(event)
        except OsddError as exc:
            error = exc
            log.info("job %s ended: %s", handle.job_id, exc)
        except MemoryError:
            error = ResourceExhausted("out of memory: try a smaller region or tile size")
            log.exception("job %s ran out of memory", handle.job_id)
        except Exception:
            error = InternalError("internal error while deblurring; see the server log")
            log.exception("job %s failed", handle.job_id)
        handle._finish(error)

    def _fail_all(self, exc: OsddError) -> None:
        with self._cond:
            self._load_error = exc
            self._closed = True
            while self._pending:
                self._pending.popleft()._finish(exc)
