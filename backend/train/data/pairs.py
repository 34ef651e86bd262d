"""The dataset every paired loader shares: a list of (blurred, sharp) files, read on
demand as whole images; and the random crop and flips that training applies to them
(backend.train.sampling draws them per sample)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ...errors import ConfigError
from .pixels import load_rgb, to_tensor


@dataclass(frozen=True)
class Pair:
    blur: Path
    sharp: Path
    name: str


class PairDataset(Dataset):
    """Items are ``{"blur": 3xHxW, "sharp": 3xHxW, "name": str}`` (float32 in [0, 1]),
    whole images: training crops and flips them per sample (backend.train.sampling),
    evaluation scores them whole."""

    def __init__(self, pairs: Sequence[Pair], source: str = "") -> None:
        if not pairs:
            raise ConfigError(f"no image pairs found{' in ' + source if source else ''}")
        self.pairs = list(pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, object]:
        pair = self.pairs[index]
        blur, sharp = load_rgb(pair.blur), load_rgb(pair.sharp)
        if blur.shape != sharp.shape:
            raise ConfigError(f"{pair.blur} is {_size(blur)} but its sharp partner "
                              f"{pair.sharp} is {_size(sharp)}")
        return {"blur": to_tensor(blur), "sharp": to_tensor(sharp), "name": pair.name}


def crop_origin(shape: tuple[int, ...], crop: int, rng: np.random.Generator,
                path: object = "the image") -> tuple[int, int]:
    """Top-left corner of a random crop x crop window inside an image of `shape`."""
    height, width = shape[:2]
    if height < crop or width < crop:
        raise ConfigError(f"{path} is {width}x{height} pixels, smaller than the "
                          f"{crop}x{crop} crop")
    return int(rng.integers(0, height - crop + 1)), int(rng.integers(0, width - crop + 1))


def random_flips(rng: np.random.Generator, *images: np.ndarray) -> list[np.ndarray]:
    """The same random left-right and top-bottom mirroring applied to every image."""
    lr, tb = rng.random(2) < 0.5
    return [np.ascontiguousarray(im[::-1 if tb else 1, ::-1 if lr else 1]) for im in images]


def listing(items: list[str], shown: int = 8) -> str:
    """Items for an error message, the first `shown` of them and a count of the rest."""
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"
