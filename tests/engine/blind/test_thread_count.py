"""A Ray worker runs torch on one thread, a server on every core: the same photo must give
the same kernel and the same result either way, bit for bit. Torch splits an elementwise
product of more than 32768 elements over its threads, and its batched inverse FFT of small
spectra rounds differently at 2 threads than at 1; the photos here exercise both."""

from contextlib import contextmanager

import numpy as np
import pytest
from scipy.signal import fftconvolve

from backend.engine.blind import DEFAULT_KERNEL_SIZE, BlurEstimate, deconvolve, estimate_blur

from ._helpers import line_kernel, shapes_photo


@contextmanager
def _threads(n: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _shaken(size: int, light: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A shapes photo (with, if asked, a street light ``light`` times brighter than white)
    shaken by a 15 px line and clipped and rounded as a camera does; and the kernel."""
    scene = shapes_photo(size, seed=5) * 0.8
    if light is not None:
        yy, xx = np.mgrid[:size, :size]
        scene[(yy - size // 3) ** 2 + (xx - size // 2) ** 2 <= 16] = light
    kernel = line_kernel(15)
    blurred = fftconvolve(np.pad(scene, 7, mode="symmetric"), kernel, "valid")
    blurred += np.random.default_rng(2).normal(0, 0.003, blurred.shape)
    return (np.round(np.clip(blurred, 0, 1) * 255) / 255).astype(np.float32), kernel


@pytest.mark.parametrize("light", [None, 5.0], ids=["plain", "clipped light"])
def test_the_deconvolution_does_not_depend_on_the_thread_count(light):
    photo, kernel = _shaken(320, light)
    assert light is None or (photo >= 0.98).any()
    estimate = BlurEstimate(kernel=kernel.astype(np.float32), confident=True)
    outputs = []
    for n in (1, 2):
        with _threads(n):
            outputs.append(deconvolve(photo, estimate, noise=0.003))
    np.testing.assert_array_equal(outputs[0], outputs[1])


# 448 px: spectra large enough for torch to split its elementwise products; 160 px at the
# default largest blur: the pyramid's coarse levels, whose small stacks of spectra torch's
# batched inverse FFT rounded differently at 2 threads.
@pytest.mark.parametrize("size,max_kernel_size", [(448, 31), (160, DEFAULT_KERNEL_SIZE)])
def test_the_estimated_kernel_does_not_depend_on_the_thread_count(size, max_kernel_size):
    photo, _ = _shaken(size)
    kernels = []
    for n in (1, 2):
        with _threads(n):
            kernels.append(estimate_blur(photo, max_kernel_size=max_kernel_size).kernel)
    np.testing.assert_array_equal(kernels[0], kernels[1])
