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
    """`cases` (photo index, kernel index) default to "quick" or, with `full`, "full"."""

    def __init__(self, folder: str | Path, full: bool = False,
                 cases: list[tuple[int, int]] | None = None) -> None:
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
        self.cases = cases or ([(i, k) for i in range(len(self.photos))
                                for k in range(len(self.kernels))] if full
                               else [(i, i) for i in range(count)])
        bad = [c for c in self.cases if not (0 <= c[0] < len(self.photos)
                                             and 0 <= c[1] < len(self.kernels))]
        if bad:
            raise ConfigError(f"{folder} has {len(self.photos)} photos and "
                              f"{len(self.kernels)} kernels; no case {bad[0]}")

    def __len__(self) -> int:
        return len(self.cases)

    def arrays(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sharp, blurred, kernel) of case `index`, float32, images HxWx3."""
        i, k = self.cases[index]
        sharp = load_rgb(self.photos[i])
        # The protocol's noise seed, so every user of the bench gets the same numbers.
        return sharp, protocol_blur(sharp, self.kernels[k], 1000 * i + k), self.kernels[k]

    def __getitem__(self, index: int) -> dict[str, object]:
        i, k = self.cases[index]
        sharp, blurred, _ = self.arrays(index)
        return {"blur": to_tensor(blurred), "sharp": to_tensor(sharp),
                "name": f"{self.photos[i].stem}_{self.names[k]}"}
