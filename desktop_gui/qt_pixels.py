"""HWC numpy pixels -> QImage for display (8 bits per sample; files keep their depth)."""

from __future__ import annotations

import numpy as np
from PyQt6.QtGui import QImage

from backend.images import to_uint8


def to_qimage(pixels: np.ndarray) -> QImage:
    """A display copy of HWC pixels with 1-4 channels (2 and 4 carry alpha)."""
    array = to_uint8(pixels)
    channels = array.shape[2]
    if channels == 1:
        fmt, array = QImage.Format.Format_Grayscale8, array[:, :, 0]
    elif channels == 2:
        gray, alpha = array[:, :, :1], array[:, :, 1:]
        fmt, array = QImage.Format.Format_RGBA8888, np.concatenate([gray] * 3 + [alpha], 2)
    elif channels == 3:
        fmt = QImage.Format.Format_RGB888
    else:
        fmt = QImage.Format.Format_RGBA8888
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, array.strides[0], fmt)
    return image.copy()  # the QImage above only borrows the numpy buffer
