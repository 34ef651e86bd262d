"""QtKernelView: the blur kernel of the last result, enlarged, so that a user sees what the
engine removed (a thin trajectory is a confident estimate; a blob or a dot explains a
result that changed little)."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QPixmap
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from backend.blur_kernel import kernel_to_pixels

from .qt_pixels import to_qimage

_SIDE = 160  # display size (px); kernels are at most 101 px, so each grows at least 1.5x


class QtKernelView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.caption = QLabel("Blur kernel: none yet")
        self.picture = QLabel()
        self.picture.setFixedSize(_SIDE, _SIDE)
        self.picture.setStyleSheet("background:black")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.caption)
        column.addWidget(self.picture)
        self.kernel: np.ndarray | None = None

    def show_kernel(self, kernel: np.ndarray | None, engine: str) -> None:
        self.kernel = kernel
        if kernel is None:
            self.caption.setText(f"Blur kernel: {engine} works without one")
            self.picture.clear()
            return
        side = kernel.shape[0]
        self.caption.setText("Blur kernel: no blur found" if side == 1 else
                             f"Blur kernel removed: {side}x{side} px")
        image = to_qimage(kernel_to_pixels(kernel))
        # Nearest-neighbour, so single pixels of the trajectory stay visible as pixels.
        self.picture.setPixmap(QPixmap.fromImage(image).scaled(
            _SIDE, _SIDE, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
