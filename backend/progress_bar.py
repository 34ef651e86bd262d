"""A one-line text progress display for job events, for terminal front ends."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .batch import DONE, FAILED, RUNNING, WAITING, BatchItem, ItemUpdate
from .types import Accepted, Done, JobEvent, Progress, Queued


class ProgressBar:
    """Renders job events as one updating line (or plain lines when not a terminal)."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.live = self.stream.isatty()
        self.started = time.monotonic()
        self._last = ""

    def __call__(self, event: JobEvent) -> None:
        if isinstance(event, (Accepted, Queued)) and event.queue_position:
            self._show(f"queued, position {event.queue_position} (jobs ahead of this one)")
        elif isinstance(event, Progress):
            if event.message:
                self._line(f"note: {event.message}")
            if event.tiles_total:
                filled = self.width * event.tiles_done // event.tiles_total
                bar = "#" * filled + "-" * (self.width - filled)
                self._show(f"{event.stage} [{bar}] {event.tiles_done}/{event.tiles_total} "
                           f"tiles  {time.monotonic() - self.started:5.1f} s",
                           milestone=event.tiles_done in (0, event.tiles_total))
            else:
                self._show(f"{event.stage}...")
        elif isinstance(event, Done):
            self._show(f"done: {event.engine} on {event.device}, {event.engine_seconds:.1f} s "
                       f"in engine, {event.total_seconds:.1f} s total")
            if self.live:
                self.stream.write("\n")

    def _show(self, text: str, milestone: bool = True) -> None:
        """Live: redraw the line. Otherwise (a log file): only milestones, one per line."""
        if text == self._last:
            return
        self._last = text
        if self.live:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
        elif milestone:
            self.stream.write(text + "\n")

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.live else "") + text + "\n")


class BatchProgressBar:
    """Renders a batch's item updates as one line: files finished of those to do, the
    share of the work done, an estimate of the time left, and the file being worked on."""

    def __init__(self, items: list[BatchItem], stream: TextIO | None = None,
                 width: int = 30) -> None:
        self._bar = ProgressBar(stream, width)
        self.todo = sum(item.status == WAITING for item in items)
        self.started = time.monotonic()
        # Kept from the updates, so that one costs the same however long the batch is.
        self._finished: set[int] = set()
        self._running: dict[int, float] = {}  # index -> fraction done

    def __call__(self, update: ItemUpdate) -> None:
        item = update.item
        if item.status == FAILED:
            self._bar._line(f"failed: {item.source}: {item.error}")
        if item.status == RUNNING:
            self._running[update.index] = item.fraction
        else:
            self._running.pop(update.index, None)
            if item.status in (DONE, FAILED):
                self._finished.add(update.index)
        finished = len(self._finished)
        work = finished + sum(self._running.values())
        share = work / self.todo if self.todo else 1.0
        elapsed = time.monotonic() - self.started
        left = f"ETA {_duration(elapsed * (1 - share) / share)}" if share > 0 else "ETA -"
        filled = int(self._bar.width * share)
        bar = "#" * filled + "-" * (self._bar.width - filled)
        now = f"  {item.source.name}" if item.status == RUNNING else ""
        self._bar._show(f"[{bar}] {finished}/{self.todo} files {100 * share:3.0f}%  {left}"
                        f"{now}", milestone=item.status != RUNNING)

    def close(self) -> None:
        if self._bar.live:
            self._bar.stream.write("\n")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
