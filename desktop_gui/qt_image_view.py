"""QtImageView: the photo, with zoom, pan, selection, live tiles and a before/after split."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPoint, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PyQt6.QtWidgets import QWidget

from backend.types import Region

from .document import Document
from .qt_pixels import to_qimage
from .workspace import Workspace

_MIN_SCALE, _MAX_SCALE, _WHEEL_STEP = 1 / 64, 32.0, 1.25


class QtImageView(QWidget):
    """Shows the workspace's document. Wheel zooms around the cursor, fit() and
    actual_size() set the zoom; the middle or right button pans; the left button draws
    the selection (a click clears it). paint_tile() shows a finished tile before the
    document has it; restore() shows the document's pixels again. In compare mode the
    part left of the split shows the image as opened ("before")."""

    zoom_changed = pyqtSignal(float)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workspace = workspace
        self._document: Document | None = None
        self._after: QPixmap | None = None
        self._before: QPixmap | None = None
        self._scale = 1.0
        self._origin = QPointF(0, 0)  # the image point shown at the widget's top-left
        self._fitting = True
        self._compare = False
        self._split = 0.5
        self._select_from: QPointF | None = None
        self._rubber: Region | None = None
        self._pan_from: QPointF | None = None
        self.setMinimumSize(240, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        workspace.document_changed.connect(self._attach)
        self._attach(workspace.document)

    # -- zoom and pan ---------------------------------------------------------------
    @property
    def scale(self) -> float:
        return self._scale

    def fit(self) -> None:
        if self._document is None:
            return
        h, w = self._document.pixels.shape[:2]
        scale = min(self.width() / w, self.height() / h)
        self._set_view(scale, QPointF(w / 2 - self.width() / (2 * scale),
                                      h / 2 - self.height() / (2 * scale)))
        self._fitting = True

    def actual_size(self) -> None:
        self.zoom_at(QPointF(self.width() / 2, self.height() / 2), 1.0)

    def zoom_at(self, point: QPointF, scale: float) -> None:
        """Zoom to `scale` keeping the image point under the widget `point` in place."""
        scale = min(max(scale, _MIN_SCALE), _MAX_SCALE)
        anchor = self.to_image(point)
        self._set_view(scale, anchor - point / scale)
        self._fitting = False

    def to_image(self, point: QPointF) -> QPointF:
        return self._origin + point / self._scale

    def to_widget(self, region: Region) -> QRectF:
        top_left = (QPointF(region.x, region.y) - self._origin) * self._scale
        return QRectF(top_left.x(), top_left.y(), region.width * self._scale,
                      region.height * self._scale)

    def _set_view(self, scale: float, origin: QPointF) -> None:
        changed = scale != self._scale
        self._scale, self._origin = scale, origin
        self.update()
        if changed:
            self.zoom_changed.emit(scale)

    # -- compare ----------------------------------------------------------------------
    @property
    def compare(self) -> bool:
        return self._compare

    def set_compare(self, on: bool) -> None:
        self._compare = on
        if on and self._before is None and self._document is not None:
            self._before = QPixmap.fromImage(to_qimage(self._document.original))
        self.update()

    def set_split(self, fraction: float) -> None:
        """Where the before/after line stands, 0 (left edge) to 1 (right edge)."""
        self._split = min(max(fraction, 0.0), 1.0)
        self.update()

    # -- pixels -------------------------------------------------------------------------
    def paint_tile(self, region: Region, pixels: np.ndarray) -> None:
        if self._after is None:
            return
        painter = QPainter(self._after)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPoint(region.x, region.y), to_qimage(pixels))
        painter.end()
        self.update()

    def restore(self, region: Region) -> None:
        if self._document is not None:
            self.paint_tile(region, self._document.pixels[region.slices])

    def shown_image(self) -> np.ndarray:
        """What the view shows now (after-side), as 8-bit RGBA HWC: for tests and checks."""
        if self._after is None:
            return np.zeros((0, 0, 4), np.uint8)
        image = self._after.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
        ptr = image.constBits()
        ptr.setsize(image.sizeInBytes())
        rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
        return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()

    def _attach(self, document: Document | None) -> None:
        if self._document is not None:
            self._document.changed.disconnect(self.restore)
            self._document.selection_changed.disconnect(self._on_selection)
        self._document = document
        self._before = None
        self._after = None
        if document is not None:
            self._after = QPixmap.fromImage(to_qimage(document.pixels))
            document.changed.connect(self.restore)
            document.selection_changed.connect(self._on_selection)
            if self._compare:
                self.set_compare(True)
            self.fit()
        self.update()

    def _on_selection(self, _region: Region | None) -> None:
        self.update()

    # -- Qt events ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(48, 48, 48))
        if self._after is None or self._document is None:
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open an image: File > Open, or drop a file here")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 1)
        shown = self._visible_region()
        if not shown.is_empty():
            target, source = self.to_widget(shown), QRectF(*_xywh(shown))
            painter.drawPixmap(target, self._after, source)
            if self._compare and self._before is not None:
                split = self.width() * self._split
                painter.save()
                painter.setClipRect(QRectF(0, 0, split, self.height()))
                painter.drawPixmap(target, self._before, source)
                painter.restore()
                self._draw_split(painter, split)
        selection = self._rubber or self._document.selection
        if selection is not None:
            rect = self.to_widget(selection)
            painter.setPen(QPen(QColor(0, 0, 0), 1))
            painter.drawRect(rect)
            painter.setPen(QPen(QColor(255, 210, 0), 1, Qt.PenStyle.DashLine))
            painter.drawRect(rect)

    def _draw_split(self, painter: QPainter, x: float) -> None:
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        for text, left in (("before", x - 64), ("after", x + 6)):
            box = QRectF(left, 8, 58, 20)
            painter.fillRect(box, QColor(0, 0, 0, 160))  # readable on a bright photo too
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _visible_region(self) -> Region:
        assert self._document is not None
        top_left = self.to_image(QPointF(0, 0))
        bottom_right = self.to_image(QPointF(self.width(), self.height()))
        x, y = int(np.floor(top_left.x())), int(np.floor(top_left.y()))
        view = Region(x, y, int(np.ceil(bottom_right.x())) - x + 1,
                      int(np.ceil(bottom_right.y())) - y + 1)
        return view.intersect(self._document.bounds)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(event.position(), self._scale * _WHEEL_STEP ** steps)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._document is not None:
            self._select_from = self._clamped(self.to_image(event.position()))
            self._rubber = None
        elif event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = (event.position() - self._pan_from) / self._scale
            self._pan_from = event.position()
            self._set_view(self._scale, self._origin - delta)
            self._fitting = False
        elif self._select_from is not None:
            self._rubber = self._rect(self._select_from,
                                      self._clamped(self.to_image(event.position())))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
        elif self._select_from is not None and self._document is not None:
            end = self._clamped(self.to_image(event.position()))
            region = self._rect(self._select_from, end)
            self._select_from, self._rubber = None, None
            big_enough = region.width >= 2 and region.height >= 2
            self._document.set_selection(region if big_enough else None)
            self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        if self._fitting:
            self.fit()

    def _clamped(self, point: QPointF) -> QPointF:
        assert self._document is not None
        h, w = self._document.pixels.shape[:2]
        return QPointF(min(max(point.x(), 0.0), w), min(max(point.y(), 0.0), h))

    @staticmethod
    def _rect(a: QPointF, b: QPointF) -> Region:
        x0, x1 = sorted((round(a.x()), round(b.x())))
        y0, y1 = sorted((round(a.y()), round(b.y())))
        return Region(x0, y0, x1 - x0, y1 - y0)


def _xywh(region: Region) -> tuple[float, float, float, float]:
    return float(region.x), float(region.y), float(region.width), float(region.height)
