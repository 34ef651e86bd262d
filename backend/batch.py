"""Deblurring many files: plan the queue, run it as a generator of updates. The one home
of batches, used by `osdd batch` and the desktop app's batch dialog.

A result is written atomically under the output folder, so a file that is there is
finished: a batch stopped half-way (Ctrl-C, a crash, a closed dialog) is resumed by
planning it again, which skips those files."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .errors import Cancelled, InternalError, InvalidRequest, OsddError, Unavailable
from .images import ImageMeta, read_image_file, write_image
from .rpc.client import DeblurCall, DeblurClient
from .types import Done, JobOptions, Progress, TileResult

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
WAITING, RUNNING, DONE, FAILED, CANCELLED, SKIPPED = (
    "waiting", "running", "done", "failed", "cancelled", "skipped")


@dataclass
class BatchItem:
    """One file of the queue: where it comes from and goes to, status, progress 0-1 and,
    when it failed, why."""

    source: Path
    output: Path
    status: str = WAITING
    fraction: float = 0.0
    error: str = ""


def plan_batch(sources: Iterable[Path], out_dir: Path, *, recursive: bool = False,
               redo: bool = False) -> list[BatchItem]:
    """Files (folders expand to their images; with `recursive`, those of every subfolder,
    whose tree is kept under `out_dir`) -> queue items. An item whose output exists is
    SKIPPED unless `redo`. Refuses to overwrite an input and a missing output folder;
    hidden files (an interrupted write's leftovers among them) and everything inside
    `out_dir` are not inputs."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InvalidRequest(f"the output folder {out_dir} does not exist")
    outputs = out_dir.resolve()
    pairs: dict[Path, Path] = {}
    for source in map(Path, sources):
        if source.is_dir():
            if source.resolve() == outputs:
                raise InvalidRequest(f"the output folder is the input folder {source}; "
                                     "choose another output folder so that originals are "
                                     "kept")
            found = source.rglob("*") if recursive else source.iterdir()
            for path in sorted(found):
                relative = path.relative_to(source)
                if (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
                        and not any(part.startswith(".") for part in relative.parts)
                        and not path.resolve().is_relative_to(outputs)):
                    pairs.setdefault(path, out_dir / relative)
        else:
            pairs.setdefault(source, out_dir / source.name)
    if not pairs:
        raise InvalidRequest("no image files to deblur (PNG, JPEG, TIFF, WebP or BMP)")
    items, writers = [], {}
    for path, output in pairs.items():
        if (other := writers.setdefault(output, path)) != path:
            raise InvalidRequest(f"{other} and {path} would both be written to {output}; "
                                 "deblur them in separate batches")
        if output.resolve() == path.resolve():
            raise InvalidRequest(f"the output folder holds the input {path.name}; choose "
                                 "another output folder so that originals are kept")
        done = not redo and output.is_file()
        items.append(BatchItem(path, output, SKIPPED if done else WAITING,
                               1.0 if done else 0.0))
    return items


@dataclass(frozen=True)
class ItemUpdate:
    """Item `index` changed; a copy of its state at that moment."""

    index: int
    item: BatchItem


class BatchRun:
    """Deblurs every waiting item with `options`, `workers` files at a time (one per
    server is the natural count when the client has several), writing each result with
    its source's metadata. A failure fails only that item, except an unreachable server,
    which fails the rest. run() is for a worker thread; cancel() from any thread."""

    def __init__(self, client: DeblurClient, items: list[BatchItem],
                 options: JobOptions | None = None, workers: int = 1) -> None:
        self.items = items
        self._client = client
        self._options = options or JobOptions()
        self._workers = max(1, workers)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._calls: set[DeblurCall] = set()
        self._down: str | None = None

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            calls = list(self._calls)
        for call in calls:
            call.cancel()

    def run(self) -> Iterator[ItemUpdate]:
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index, item in enumerate(self.items):
            if item.status == WAITING:
                todo.put(index)
        updates: queue.SimpleQueue[ItemUpdate | None] = queue.SimpleQueue()
        threads = [threading.Thread(target=self._work, args=(todo, updates), daemon=True,
                                    name=f"osdd-batch-{n}") for n in range(self._workers)]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                update = updates.get()
                if update is None:
                    running -= 1
                else:
                    yield update
        finally:  # the consumer left early: stop the workers' jobs with it
            if running:
                self.cancel()

    def _work(self, todo: queue.SimpleQueue, updates: queue.SimpleQueue) -> None:
        try:
            while True:
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                for update in self._item(index):
                    updates.put(update)
        finally:
            updates.put(None)

    def _item(self, index: int) -> Iterator[ItemUpdate]:
        if self._cancelled.is_set():
            yield self._set(index, CANCELLED)
            return
        if self._down is not None:
            yield self._set(index, FAILED, self._down)
            return
        yield self._set(index, RUNNING)
        try:
            yield from self._deblur(index, self.items[index])
        except Cancelled:
            yield self._set(index, CANCELLED)
        except Unavailable as exc:
            self._down = str(exc)
            yield self._set(index, FAILED, self._down)
        except OsddError as exc:
            if self._cancelled.is_set():
                yield self._set(index, CANCELLED)
            else:
                yield self._set(index, FAILED, str(exc))
        except Exception as exc:  # one odd file must not end the batch
            yield self._set(index, FAILED, unexpected_failure(self.items[index].source, exc))

    def _deblur(self, index: int, item: BatchItem) -> Iterator[ItemUpdate]:
        image, meta = read_image_file(item.source)
        o = self._options
        # A whole file is sent as it is: no region, so no context to cut or copy.
        call = self._client.deblur(image, engine=o.engine, params=o.params, seed=o.seed)
        with self._lock:
            self._calls.add(call)
        if self._cancelled.is_set():
            call.cancel()
        try:
            out = np.array(with_channels(image))
            for event in call:
                if isinstance(event, TileResult):
                    out[event.region.slices] = event.pixels
                elif isinstance(event, Progress) and event.tiles_total:
                    yield self._set(index, RUNNING,
                                    fraction=event.tiles_done / event.tiles_total)
                elif isinstance(event, Done):
                    save_result(item.output, image, out, meta)
                    yield self._set(index, DONE)
                    return
        finally:
            with self._lock:
                self._calls.discard(call)
        if self._cancelled.is_set():
            raise Cancelled("batch cancelled")
        raise InternalError("the server ended the job without a result")

    def _set(self, index: int, status: str, error: str = "",
             fraction: float | None = None) -> ItemUpdate:
        with self._lock:
            item = self.items[index]
            item.status, item.error = status, error
            if fraction is not None:
                item.fraction = fraction
            if status == DONE:
                item.fraction = 1.0
            return ItemUpdate(index, replace(item))


def with_channels(image: np.ndarray) -> np.ndarray:
    """A file's pixels as a job takes them: HxWxC (a grey file's HxW gets one channel)."""
    return image if image.ndim == 3 else image[:, :, None]


def save_result(output: Path, image: np.ndarray, out: np.ndarray, meta: ImageMeta) -> None:
    """Write a file's result (HxWxC) shaped as its input ``image`` was, with the input's
    metadata, making the output's folders."""
    output.parent.mkdir(parents=True, exist_ok=True)
    write_image(output, out[:, :, 0] if image.ndim == 2 else out, meta=meta)


def unexpected_failure(source: Path, exc: Exception) -> str:
    """Log a file's unforeseen failure (a bug, not a bad file) and say it in one line."""
    log.exception("batch item %s failed", source)
    return f"unexpected {type(exc).__name__}: {exc}"


def summary(items: list[BatchItem]) -> str:
    """"3 done, 1 skipped, 1 failed" plus one line per failure with its reason."""
    counts = {s: sum(i.status == s for i in items) for s in (DONE, SKIPPED, FAILED,
                                                             CANCELLED)}
    head = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing done"
    failures = [f"{i.source}: {i.error}" for i in items if i.status == FAILED]
    return "\n".join([head, *failures])
