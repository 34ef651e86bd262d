"""QtWorker: runs a generator on a thread and hands what it yields to the UI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from PyQt6.QtCore import QObject, pyqtSignal

from backend.errors import OsddError

log = logging.getLogger(__name__)


class QtWorker(QObject):
    """yielded(item) for each item, then failed(exception) if the generator raised, then
    finished(). Signals cross to the UI thread, where the receivers live."""

    yielded = pyqtSignal(object)
    failed = pyqtSignal(object)
    finished = pyqtSignal()

    def __init__(self, work: Callable[[], Iterator[Any]], name: str = "osdd-worker") -> None:
        super().__init__()
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @classmethod
    def call(cls, function: Callable[[], Any], name: str = "osdd-call") -> QtWorker:
        """A worker for one blocking call: yields its return value once."""
        def once() -> Iterator[Any]:
            yield function()

        return cls(once, name)

    def start(self) -> QtWorker:
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            for item in self._work():
                self.yielded.emit(item)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the UI
            if not isinstance(exc, OsddError):
                log.exception("worker %s failed", self._thread.name)
            self.failed.emit(exc)
        finally:
            self.finished.emit()
