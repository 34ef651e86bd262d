"""Test photos with Gaussian blur, and the converted perceptual-metric weights.

Tests that need the weights skip when they are absent, unless OSDD_REQUIRE_METRIC_WEIGHTS
is set (scripts/test.sh converts them and sets it): then their absence fails the run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SIGMAS = (1.0, 2.0, 4.0)


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
