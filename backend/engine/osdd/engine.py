"""The server's "osdd" engine: the one-step diffusion model on the best local device."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from ...errors import ConfigError, OutOfMemory
from ...types import ParamSpec
from ..base import Engine, PreparedJob
from . import layout
from .devices import free_memory, pick_device, pick_dtype
from .pipeline import MULTIPLE

log = logging.getLogger(__name__)
_MAX_BATCH = 16
_MEMORY_SHARE = 0.7  # of the free device memory, for a batch's activations


class OsddEngine(Engine):
    name = "osdd"
    description = ("One-step diffusion (OSDD): Stable Diffusion 2.1 UNet run once, two LoRA "
                   "adapters mixed by gamma, skip-fed VAE decoder. Needs weights; a GPU is "
                   "much faster.")
    multiple = MULTIPLE
    default_tile_size = 512
    default_overlap = 64
    max_tile_size = 2048
    portable_jobs = False  # a job's batches run on this device's pipeline

    def __init__(self, weights: Path, device: str = "auto", dtype: str = "auto",
                 fuse: bool = True) -> None:
        self.weights = Path(weights)
        self._manifest = layout.check_folder(self.weights)  # a bad folder fails at startup
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.fuse = fuse
        self.pipeline = None
        self._bytes_per_pixel: float | None = None
        self.gamma_range = layout.gamma_range(
            {n for n, f in layout.LORA_FILES.items() if self._manifest.has(f)})

    def engine_params(self) -> tuple[ParamSpec, ...]:
        lo, hi = self.gamma_range
        text = "Fidelity (1) <-> perception (0): mixes the real-blur and synthetic-blur adapters."
        if lo == hi:
            text += f" Fixed at {lo:g}: this model does not have both adapters."
        return (ParamSpec("gamma", "float", hi, lo, hi, text),)

    def load(self) -> None:
        from .loading import load_pipeline

        log.info("loading OSDD weights from %s on %s (%s)", self.weights, self.device,
                 str(self.dtype).removeprefix("torch."))
        self.pipeline = load_pipeline(self.weights, self.device, self.dtype, self.fuse,
                                      channels_last=self.device.startswith(("cuda", "cpu")))
        self._warm_up()

    def _warm_up(self) -> None:
        """One pass before serving: compiles kernels, fuses the adapters for the default
        gamma and, on CUDA, measures the memory a tile needs."""
        side = self.default_tile_size if self.device.startswith("cuda") else MULTIPLE
        image = torch.zeros(1, 3, side, side)
        if self.device.startswith("cuda"):
            torch.backends.cudnn.benchmark = True  # tiles repeat a few fixed shapes
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            self.pipeline(image, self.gamma_range[1])
            peak = torch.cuda.max_memory_allocated() - before
            self._bytes_per_pixel = peak / (side * side)
        else:
            self.pipeline(image, self.gamma_range[1])

    def batch_size(self, tile_height: int, tile_width: int) -> int:
        if self._bytes_per_pixel is None:
            return 1  # a CPU gains nothing from batching, and memory is precious there
        free = free_memory(self.device)
        fits = int(free * _MEMORY_SHARE / (self._bytes_per_pixel * tile_height * tile_width))
        return max(1, min(_MAX_BATCH, fits))

    def prepare(self, image: np.ndarray, params: Mapping[str, float],
                seed: int | None, should_stop: Callable[[], bool] = lambda: False
                ) -> PreparedJob:
        if self.pipeline is None:
            raise ConfigError("the osdd engine is not loaded")
        gamma = float(params["gamma"])
        pipeline = self.pipeline

        def process(batch: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2)
            grey = x.shape[1] == 1
            if grey:
                x = x.expand(-1, 3, -1, -1)
            try:
                y = pipeline(x, gamma)
            except torch.OutOfMemoryError:
                raise OutOfMemory(f"out of {self.device} memory for {len(batch)} tile(s) "
                                  f"of {batch.shape[2]}x{batch.shape[1]}") from None
            if grey:
                y = y.mean(dim=1, keepdim=True)
            return y.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32, copy=False)

        return PreparedJob(process)
