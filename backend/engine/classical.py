"""The classical engine: blind motion deblurring with no weights, on the CPU.

One camera-shake kernel is estimated per job from the luminance of well-textured crops
(one per cell of a coarse grid where the shake differs across a large photo), then every
tile is deconvolved with it (see backend.engine.blind for the method)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ..types import ParamSpec
from .base import Engine, PreparedJob
from .blind import (
    DEFAULT_KERNEL_SIZE,
    DEFAULT_STRENGTH,
    KERNEL_SIZE_RANGE,
    BlurEstimate,
    BlurField,
    deconvolve_at,
    estimate_shake,
    prior_noise,
)

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


class ClassicalEngine(Engine):
    name = "classical"
    description = ("Blind deconvolution: estimates one camera-shake kernel for the region, "
                   "then deconvolves it with a sparse-gradient prior. No weights, no GPU.")
    default_tile_size = 1536
    default_overlap = 192
    balanced_tiles = True  # FFT cost follows the tile area: use the smallest tiles that fit
    takes_kernel = True

    def engine_params(self) -> tuple[ParamSpec, ...]:
        lo, hi = KERNEL_SIZE_RANGE
        return (
            ParamSpec("kernel_size", "int", DEFAULT_KERNEL_SIZE, lo, hi,
                      "Largest blur to look for, in pixels (the length of the camera shake). "
                      "Larger is slower and more easily fooled by texture."),
            ParamSpec("strength", "float", DEFAULT_STRENGTH, 0.0, 1.0,
                      "How hard to sharpen: 0 returns the input, 1 removes the most blur "
                      "but amplifies noise and ringing."),
        )

    def prepare(self, image: np.ndarray, params: Mapping[str, float],
                seed: int | None, should_stop: Callable[[], bool] = lambda: False,
                kernel: np.ndarray | None = None) -> PreparedJob:
        blur: BlurEstimate | BlurField
        if kernel is not None:  # non-blind: the user's kernel is trusted as given
            blur = BlurEstimate(kernel=kernel, confident=True)
        else:
            luma = image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3] @ _LUMA
            blur = estimate_shake(np.ascontiguousarray(luma), int(params["kernel_size"]),
                                  should_stop)
        strength = float(params["strength"])
        noise = prior_noise(image[:, :, :3])

        def process_at(batch: np.ndarray, origins) -> np.ndarray:
            return np.stack([deconvolve_at(tile, at, blur, strength, noise)
                             for tile, at in zip(batch, origins, strict=True)])

        overall = blur.overall if isinstance(blur, BlurField) else blur
        return PreparedJob(note=_note(blur), kernel=overall.kernel, process_at=process_at)


def _note(blur: BlurEstimate | BlurField) -> str:
    if isinstance(blur, BlurField):
        return (f"the blur differs across the photo: {blur.own_kernels} of the "
                f"{blur.rows}x{blur.cols} regions have a kernel of their own (the kernel "
                "reported is the whole photo's)")
    return "" if blur.confident else (
        f"blur estimate doubtful: {blur.reason or 'no reason given'}; "
        "the result is deliberately conservative")
