"""Conversions between the user's pixel types and the engines' float32 working format."""

from __future__ import annotations

import numpy as np

from ..types import PixelType


def has_alpha(channels: int) -> bool:
    return channels in (2, 4)


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """HWC image -> (colour channels, alpha channel or None)."""
    if has_alpha(image.shape[2]):
        return image[:, :, :-1], image[:, :, -1:]
    return image, None


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8/uint16/float32 HWC -> float32 HWC scaled so full intensity is 1.0."""
    scale = PixelType.of(image).max_value
    out = image.astype(np.float32)
    if scale != 1.0:
        out *= np.float32(1.0 / scale)
    return out


def from_float(image: np.ndarray, pixel_type: PixelType) -> np.ndarray:
    """float32 HWC (nominally [0, 1]) -> the given pixel type, rounded and clipped."""
    if pixel_type is PixelType.F32:
        return image.astype(np.float32, copy=False)
    scaled = np.clip(image, 0.0, 1.0) * np.float32(pixel_type.max_value) + np.float32(0.5)
    return scaled.astype(pixel_type.dtype)
