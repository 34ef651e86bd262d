"""Light from beyond the frame: the pixels within a kernel of the border were blurred with
scene the photo does not show. The deconvolution leaves that scene free (it refills its
padding with the reblurred solution) instead of holding the solution to a mirror image of
the border, which rang along every border of Levin's photos."""

import importlib

import numpy as np
from scipy.signal import fftconvolve

from backend.engine.blind import BlurEstimate, deconvolve

from ._helpers import line_kernel, psnr, shapes_photo

deconvolve_module = importlib.import_module("backend.engine.blind.deconvolve")


def _cropped_shake(noise: float = 0.002):
    """A scene larger than the frame, blurred, then cropped to the frame as a camera does;
    returns (the frame's truth, the photo, the kernel)."""
    scene = shapes_photo(224, seed=3)
    kernel = line_kernel(15)
    blurred = fftconvolve(scene, kernel, "valid")  # each pixel saw the scene around it
    rng = np.random.default_rng(5)
    photo = np.round(np.clip(blurred + rng.normal(0, noise, blurred.shape), 0, 1) * 255) / 255
    return scene[7:-7, 7:-7], photo.astype(np.float32), kernel


def test_the_border_rings_less_when_the_unseen_scene_is_left_free(monkeypatch):
    truth, photo, kernel = _cropped_shake()
    estimate = BlurEstimate(kernel=kernel, confident=True)
    free = deconvolve(photo, estimate, noise=0.002)
    monkeypatch.setattr(deconvolve_module, "_REFILL_STEPS", 0)  # padding held as guessed
    held = deconvolve(photo, estimate, noise=0.002)
    h, w = truth.shape
    rows, cols = np.mgrid[:h, :w]
    border = np.minimum(np.minimum(rows, h - 1 - rows), np.minimum(cols, w - 1 - cols)) < 15
    # Measured: 37.1 dB free against 30.2 held within 15 px of the border; 42.6 / 38.7 inside.
    assert psnr(free[border], truth[border]) >= psnr(held[border], truth[border]) + 4.0
    assert psnr(free[~border], truth[~border]) >= psnr(held[~border], truth[~border])
