"""The project's benchmark set as a paired dataset: each photo of a bench folder blurred by
the protocol (shared data README) with one of the folder's kernels.npz kernels; "quick"
pairs photo i with kernel i, "full" takes every photo with every kernel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ...errors import ConfigError
from .pixels import image_files, load_rgb, to_tensor
from .protocol import protocol_blur

KERNELS = "kernels.npz"


class BenchPairs(Dataset):
    def __init__(self, folder: str | Path, full: bool = False) -> None:
        folder = Path(folder)
        if not (folder / KERNELS).is_file():
            raise ConfigError(f"{folder} is not a bench folder: {KERNELS} is missing")
        self.photos = image_files(folder)
        with np.load(folder / KERNELS) as kernels:
            self.names = sorted(kernels.files)
            self.kernels = [kernels[k].astype(np.float32) for k in self.names]
        if not self.photos or not self.kernels:
            raise ConfigError(f"{folder} holds no photos or no kernels")
        count = min(len(self.photos), len(self.kernels))
        self.cases = ([(i, k) for i in range(len(self.photos))
                       for k in range(len(self.kernels))] if full
                      else [(i, i) for i in range(count)])

    def __len__(self) -> int:
        return len(self.cases)

    def __getitem__(self, index: int) -> dict[str, object]:
        i, k = self.cases[index]
        sharp = load_rgb(self.photos[i])
        # The protocol's noise seed, so the numbers match the benchmark's.
        blurred = protocol_blur(sharp, self.kernels[k], 1000 * i + k)
        return {"blur": to_tensor(blurred), "sharp": to_tensor(sharp),
                "name": f"{self.photos[i].stem}_{self.names[k]}"}
