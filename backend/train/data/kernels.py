"""Random camera-shake blur kernels: the path of a shaking camera during the exposure,
drawn as a velocity random walk with inertia and occasional jerks, then rasterised with
sub-pixel (bilinear) splatting at equal time steps."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ...errors import ConfigError

KERNEL_SIZES = (15, 65)
_STEPS = 2048  # time samples along the path; dense enough for 65 px at sub-pixel spacing


def random_kernel(rng: np.random.Generator,
                  size_range: tuple[int, int] = KERNEL_SIZES) -> np.ndarray:
    """A float32 kernel of odd side within `size_range`, non-negative, summing to 1, with
    its centre of mass on the centre pixel (so a blurred image stays aligned with its sharp
    original)."""
    lo, hi = odd_sizes(size_range)
    size = lo + 2 * int(rng.integers(0, (hi - lo) // 2 + 1))
    return splat(shake_path(rng), size)


def odd_sizes(size_range: tuple[int, int]) -> tuple[int, int]:
    """The smallest and largest odd kernel sides within `size_range`."""
    lo, hi = size_range
    lo, hi = lo + 1 - lo % 2, hi - 1 + hi % 2
    if lo < 3 or lo > hi:
        raise ConfigError(f"kernel sizes {size_range[0]}-{size_range[1]} px hold no odd "
                          "size of at least 3")
    return lo, hi


def shake_path(rng: np.random.Generator, steps: int = _STEPS) -> np.ndarray:
    """Camera positions (steps x 2, arbitrary scale) at equal time intervals. The speed is
    left free, so the camera dwells where it slows down, as real shake does."""
    inertia = rng.uniform(0.98, 0.997)  # how long the camera keeps its direction
    jerk_rate = rng.uniform(0.0, 0.006)
    angle = rng.uniform(0, 2 * np.pi)
    drive = 0.1 * rng.normal(size=(steps, 2))
    jerks = rng.random(steps) < jerk_rate
    drive[jerks] += 0.8 * rng.normal(size=(int(jerks.sum()), 2))
    start = inertia * np.array([[np.cos(angle), np.sin(angle)]])
    velocity, _ = lfilter([1.0], [1.0, -inertia], drive, axis=0, zi=start)
    return np.cumsum(velocity, axis=0)


def splat(path: np.ndarray, size: int) -> np.ndarray:
    """Rasterise `path` into a size x size kernel, each time step spreading its weight over
    the four nearest pixels. The path is centred on its mean and scaled to fit, which puts
    the kernel's centre of mass exactly on the centre pixel."""
    centred = path - path.mean(axis=0)
    reach = np.abs(centred).max()
    points = centred * ((size - 3) / 2 / max(reach, 1e-9)) + (size - 1) / 2
    corner = np.floor(points).astype(np.int64)
    fx, fy = (points - corner).T
    x, y = corner.T
    index = np.concatenate([y * size + x, y * size + x + 1, (y + 1) * size + x,
                            (y + 1) * size + x + 1])
    weight = np.concatenate([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    kernel = np.bincount(index, weight, minlength=size * size).reshape(size, size)
    return (kernel / kernel.sum()).astype(np.float32)
