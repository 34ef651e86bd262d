"""Which samples, crops and flips each training step sees, as a pure function of the
run's seed and the sample number. Resuming at step s therefore replays exactly the
batches an uninterrupted run would have seen, with no data-loader state to save, and the
same holds for any number of data-loader workers."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ..errors import ConfigError


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
        rng = np.random.default_rng([self.seed, n, 1])
        blur, sharp = crop_pair(item["blur"], item["sharp"], self.crop, rng, item.get("name"))
        if self.augment:
            if rng.random() < 0.5:
                blur, sharp = blur.flip(-1), sharp.flip(-1)
            if rng.random() < 0.5:
                blur, sharp = blur.flip(-2), sharp.flip(-2)
        return {"blur": blur.contiguous(), "sharp": sharp.contiguous()}


def crop_pair(blur: torch.Tensor, sharp: torch.Tensor, size: int,
              rng: np.random.Generator | None, name: str | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """A size x size window of both images: random with `rng`, else the centre one."""
    h, w = sharp.shape[-2:]
    if blur.shape[-2:] != (h, w):
        raise ConfigError(f"pair {name or '?'}: blurred {tuple(blur.shape[-2:])} and sharp "
                          f"{(h, w)} differ in size")
    if h < size or w < size:
        raise ConfigError(f"pair {name or '?'} is {w}x{h}, smaller than the {size}-px crop; "
                          "use a smaller --crop")
    if rng is None:
        top, left = (h - size) // 2, (w - size) // 2
    else:
        top, left = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    window = (..., slice(top, top + size), slice(left, left + size))
    return blur[window], sharp[window]


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


def validation_batch(pairs: Dataset, count: int, crop: int) -> dict[str, torch.Tensor]:
    """The first `count` pairs, centre-cropped: a fixed set, comparable across steps."""
    if len(pairs) == 0:
        raise ConfigError("the validation data holds no pairs")
    items = [pairs[i] for i in range(min(count, len(pairs)))]
    crops = [crop_pair(it["blur"], it["sharp"], crop, None, it.get("name")) for it in items]
    return {"blur": torch.stack([b for b, _ in crops]),
            "sharp": torch.stack([s for _, s in crops])}
