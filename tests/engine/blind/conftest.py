"""Fixtures: a small bench photo crop and a real camera-shake kernel (skip if data absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A 192x192 RGB crop of a bench photo (float32 [0, 1]); skips if the data is absent."""
    path = DATA / "bench" / "leuvenA.png"
    if not path.exists():
        pytest.skip("bench data not available")
    from PIL import Image

    img = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0
    return np.ascontiguousarray(img[150:342, 200:392])


@pytest.fixture(scope="session")
def shake_kernel() -> np.ndarray:
    """The smallest bench camera-shake kernel (17x17 float32, sums to 1)."""
    path = DATA / "bench" / "kernels.npz"
    if not path.exists():
        pytest.skip("bench data not available")
    with np.load(path) as kz:
        return kz[sorted(kz.keys())[0]].astype(np.float32)
