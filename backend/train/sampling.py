"""Which samples, crops and flips each training step sees, as a pure function of the
run's seed and the sample number. Resuming at step s therefore replays exactly the
batches an uninterrupted run would have seen, with no data-loader state to save, and the
same holds for any number of data-loader workers."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..errors import ConfigError
from .data.pairs import crop_origin, random_flips

STREAM = 10**8  # datasets longer than this are streams, read in order, never shuffled


class TrainSamples(Dataset):
    """Sample n of an endless stream: item perm_e[n mod len] of epoch e = n // len, a
    random `crop` window of it (the same for blur and sharp) and random flips."""

    def __init__(self, pairs: Dataset, crop: int, seed: int, augment: bool = True) -> None:
        if len(pairs) == 0:
            raise ConfigError("the training data holds no pairs")
        self.pairs, self.crop, self.seed, self.augment = pairs, crop, seed, augment
        self._epoch: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return 2**62  # endless; the sampler decides which sample numbers are drawn

    def _index(self, n: int) -> int:
        if len(self.pairs) > STREAM:
            return n % len(self.pairs)  # a generated stream: every item is already new
        epoch, offset = divmod(n, len(self.pairs))
        return int(self._order(epoch)[offset])

    def _order(self, epoch: int) -> np.ndarray:
        if self._epoch is None or self._epoch[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch])
            self._epoch = (epoch, rng.permutation(len(self.pairs)))
        return self._epoch[1]

    def __getitem__(self, n: int) -> dict[str, torch.Tensor]:
        item = self.pairs[self._index(int(n))]
        blur, sharp = item["blur"], item["sharp"]  # the datasets check they match in size
        rng = np.random.default_rng([self.seed, n, 1])
        y, x = crop_origin(tuple(sharp.shape[-2:]), self.crop, rng, item.get("name"))
        window = (..., slice(y, y + self.crop), slice(x, x + self.crop))
        blur, sharp = blur[window], sharp[window]
        if self.augment:
            # CHW tensors: the HxW flips of the data package, on (H, W, C)-ordered views
            blur, sharp = (torch.from_numpy(a).permute(2, 0, 1) for a in random_flips(
                rng, blur.permute(1, 2, 0).numpy(), sharp.permute(1, 2, 0).numpy()))
        return {"blur": blur.contiguous(), "sharp": sharp.contiguous()}


class StepBatches(Sampler):
    """Batches of sample numbers for micro-steps start, start + 1, ... < stop. Process
    `rank` of `world` takes its own slice of every global batch."""

    def __init__(self, start: int, stop: int, batch: int, rank: int = 0,
                 world: int = 1) -> None:
        self.start, self.stop, self.batch, self.rank, self.world = (start, stop, batch, rank,
                                                                     world)

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)

    def __iter__(self):
        for step in range(self.start, self.stop):
            first = (step * self.world + self.rank) * self.batch
            yield list(range(first, first + self.batch))


def validation_set(pairs: Dataset, count: int, crop: int
                   ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The first `count` pairs, each centre-cropped to at most crop x crop and to a
    multiple of 64 (the model's): a fixed set, comparable across steps, that also takes
    photos smaller than the training crop."""
    if len(pairs) == 0:
        raise ConfigError("the validation data holds no pairs")
    out = []
    for i in range(min(count, len(pairs))):
        item = pairs[i]
        h, w = item["sharp"].shape[-2:]
        size_h, size_w = min(crop, h // 64 * 64), min(crop, w // 64 * 64)
        if not (size_h and size_w):
            raise ConfigError(f"validation pair {item.get('name', i)} is {w}x{h}; pairs "
                              "need at least 64x64 pixels")
        top, left = (h - size_h) // 2, (w - size_w) // 2
        window = (..., slice(top, top + size_h), slice(left, left + size_w))
        out.append((item["blur"][window], item["sharp"][window]))
    return out
