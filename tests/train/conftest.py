"""Bench photos with Gaussian blur, and the converted perceptual-metric weights.

Tests that need the weights skip when they are absent, unless OSDD_REQUIRE_METRIC_WEIGHTS
is set (scripts/test.sh converts them and sets it): then their absence fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# the project's shared data beside the checkout, as tests/conftest.py finds it
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

SIGMAS = (1.0, 2.0, 4.0)


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


def nchw(*images: np.ndarray):
    """HxWx3 arrays -> one NCHW float tensor."""
    import torch

    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="session")
def metric_weights() -> Path:
    from backend.train.metrics.weights import ALL_FILES, metric_weights_dir

    folder = metric_weights_dir()
    missing = [name for name in ALL_FILES if not (folder / name).is_file()]
    if missing:
        message = (f"perceptual-metric weights {missing} not in {folder}; "
                   "run scripts/convert_perceptual_weights.py")
        if os.environ.get("OSDD_REQUIRE_METRIC_WEIGHTS"):
            pytest.fail(message)
        pytest.skip(message)
    return folder
