"""Fixtures: a small photo crop and a real-length camera-shake kernel, from the test set of
tests/conftest.py."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import sample_photo, shake_kernel_of


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A 192x192 RGB crop (float32 [0, 1]) with edges in many directions: cup, saucer, wood."""
    return sample_photo("coffee", 192)


@pytest.fixture(scope="session")
def shake_kernel() -> np.ndarray:
    """The shortest bench-ladder camera-shake kernel (17x17 float32, sums to 1)."""
    return shake_kernel_of(0)
