"""Shared pieces of the desktop tests: photos on disk and a built app against a server."""

import numpy as np
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication

from backend.images import write_image


def photo(path, h=120, w=160, dtype=np.uint8, channels=3):
    """A random photo written to `path`; returns its pixels."""
    top = 255 if dtype == np.uint8 else 65535
    pixels = np.random.default_rng(7).integers(0, top, (h, w, channels)).astype(dtype)
    write_image(path, pixels)
    return pixels


def drag(view, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton):
    """Press at `start`, move to `end`, release: widget coordinates."""
    none = Qt.KeyboardModifier.NoModifier
    for kind, point, buttons in ((QMouseEvent.Type.MouseButtonPress, start, button),
                                 (QMouseEvent.Type.MouseMove, end, button),
                                 (QMouseEvent.Type.MouseButtonRelease, end,
                                  Qt.MouseButton.NoButton)):
        event = QMouseEvent(kind, point, view.mapToGlobal(point), button, buttons, none)
        QApplication.sendEvent(view, event)
