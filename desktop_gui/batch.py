"""Batch deblurring of whole files: plan the queue, run it as a generator of updates."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from backend.errors import Cancelled, InvalidRequest, OsddError, Unavailable
from backend.images import read_image_file, write_image
from backend.rpc.client import DeblurClient

from .jobs import DeblurJob, DeblurSettings, JobFinished, JobProgress

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
WAITING, RUNNING, DONE, FAILED, CANCELLED = "waiting", "running", "done", "failed", "cancelled"


@dataclass
class BatchItem:
    """One file of the queue: where it comes from and goes to, status, progress 0-1 and,
    when it failed, why."""

    source: Path
    output: Path
    status: str = WAITING
    fraction: float = 0.0
    error: str = ""


def plan_batch(sources: Iterable[Path], out_dir: Path) -> list[BatchItem]:
    """Files (folders expand to their images) -> queue items writing to `out_dir` under
    the same names. Refuses to overwrite an input and a missing output folder."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise InvalidRequest(f"the output folder {out_dir} does not exist")
    files: list[Path] = []
    for source in map(Path, sources):
        if source.is_dir():
            files += sorted(p for p in source.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(source)
    files = list(dict.fromkeys(files))
    if not files:
        raise InvalidRequest("no image files to deblur (PNG, JPEG, TIFF, WebP or BMP)")
    items = []
    for path in files:
        output = out_dir / path.name
        if output.resolve() == path.resolve():
            raise InvalidRequest(f"the output folder holds the input {path.name}; choose "
                                 "another output folder so that originals are kept")
        items.append(BatchItem(path, output))
    return items


@dataclass(frozen=True)
class ItemUpdate:
    """Item `index` changed; a copy of its state at that moment."""

    index: int
    item: BatchItem


class BatchRun:
    """Deblurs every item in turn, writing each result with its source's metadata. A
    failure fails only that item, except an unreachable server, which fails the rest.
    run() is for a worker thread; cancel() from any thread."""

    def __init__(self, client: DeblurClient, items: list[BatchItem],
                 settings: DeblurSettings) -> None:
        self.items = items
        self._client = client
        self._settings = settings
        self._cancelled = threading.Event()
        self._job: DeblurJob | None = None

    def cancel(self) -> None:
        self._cancelled.set()
        job = self._job
        if job is not None:
            job.cancel()

    def run(self) -> Iterator[ItemUpdate]:
        down: str | None = None
        for index, item in enumerate(self.items):
            if self._cancelled.is_set():
                yield self._set(index, CANCELLED)
                continue
            if down is not None:
                yield self._set(index, FAILED, down)
                continue
            yield self._set(index, RUNNING)
            try:
                yield from self._one(index, item)
            except Cancelled:
                yield self._set(index, CANCELLED)
            except Unavailable as exc:
                down = str(exc)
                yield self._set(index, FAILED, down)
            except OsddError as exc:
                yield self._set(index, FAILED, str(exc))
            except Exception as exc:  # one odd file must not end the batch
                log.exception("batch item %s failed", item.source)
                yield self._set(index, FAILED, f"unexpected {type(exc).__name__}: {exc}")

    def _one(self, index: int, item: BatchItem) -> Iterator[ItemUpdate]:
        image, meta = read_image_file(item.source)
        job = DeblurJob(self._client, image, None, self._settings)
        self._job = job
        if self._cancelled.is_set():
            job.cancel()
        for update in job.run():
            if isinstance(update, JobProgress) and update.tiles_total:
                item.fraction = update.tiles_done / update.tiles_total
                yield ItemUpdate(index, _copy(item))
            elif isinstance(update, JobFinished):
                write_image(item.output, update.pixels, meta=meta)
                yield self._set(index, DONE)
        self._job = None

    def _set(self, index: int, status: str, error: str = "") -> ItemUpdate:
        item = self.items[index]
        item.status, item.error = status, error
        if status == DONE:
            item.fraction = 1.0
        return ItemUpdate(index, _copy(item))


def _copy(item: BatchItem) -> BatchItem:
    return BatchItem(item.source, item.output, item.status, item.fraction, item.error)


def summary(items: list[BatchItem]) -> str:
    """"3 done, 1 failed" plus one line per failure with its reason."""
    counts = {s: sum(i.status == s for i in items) for s in (DONE, FAILED, CANCELLED)}
    head = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "nothing done"
    failures = [f"{i.source.name}: {i.error}" for i in items if i.status == FAILED]
    return "\n".join([head, *failures])
