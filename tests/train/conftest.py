"""Bench photos with Gaussian blur."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# the project's shared data beside the checkout, as tests/conftest.py finds it
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

def bench_photo(name: str = "fruits.png", crop: int | None = 128) -> np.ndarray:
    """HxWx3 float32 in [0, 1]; a centred crop keeps the backbone passes fast."""
    from PIL import Image

    path = SHARED_DATA / "bench" / name
    if not path.exists():
        pytest.skip(f"benchmark data not found at {path}")
    image = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255
    if crop is not None:
        y, x = (np.array(image.shape[:2]) - crop) // 2
        image = image[y:y + crop, x:x + crop]
    return np.ascontiguousarray(image)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(image, (sigma, sigma, 0), mode="reflect").astype(np.float32)
