"""Workspace: the app's one open document and whether a job is running on it."""

from __future__ import annotations

from .document import Document
from .events import Listeners


class Workspace:
    """document_changed emits the newly open Document (or None); busy_changed emits True
    while a deblur job runs, during which the document must not be edited."""

    def __init__(self) -> None:
        self.document: Document | None = None
        self.busy = False
        self.document_changed: Listeners[Document | None] = Listeners()
        self.busy_changed: Listeners[bool] = Listeners()

    def set_document(self, document: Document | None) -> None:
        self.document = document
        self.document_changed.emit(document)

    def set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)
