"""Image files as float RGB arrays and torch tensors, for the training data loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...images import read_image

# What the loaders pick up in a folder; other files (notes, lists, thumbnails.db) are ignored.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
_FULL_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def image_files(folder: Path) -> list[Path]:
    """The image files directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in
                  IMAGE_SUFFIXES and not p.name.startswith("."))


def load_rgb(path: str | Path) -> np.ndarray:
    """An image file as float32 HxWx3 in [0, 1]: 8- and 16-bit and float files alike; gray
    is repeated to three channels and alpha dropped (the blur pairs carry no alpha)."""
    return as_rgb(read_image(path))


def as_rgb(image: np.ndarray) -> np.ndarray:
    scale = _FULL_SCALE.get(image.dtype)
    pixels = image.astype(np.float32) / scale if scale else np.clip(image, 0, 1)
    colour = pixels[:, :, :1] if image.shape[2] in (1, 2) else pixels[:, :, :3]
    return np.ascontiguousarray(np.broadcast_to(colour, (*image.shape[:2], 3)),
                                dtype=np.float32)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """HxWx3 float array -> 3xHxW float32 tensor (its own memory, safe across workers)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), np.float32))
