"""Synthetic blur pairs made on the fly from a folder of sharp photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from ...errors import ConfigError
from .degrade import DEFAULT_SETTINGS, SynthSettings, synthesize
from .pairs import crop_origin
from .pixels import image_files, load_rgb, to_tensor


class SyntheticPairs(Dataset):
    """Item i blurs photo i mod n of `sharp_dir` (sorted by name) with camera shake drawn
    from ``default_rng([seed, i])``: a pure function of (seed, i), whatever the order of
    access, the workers or the other items drawn. `length` defaults to one item per photo;
    a longer dataset visits every photo again with new crops and blur. Items are
    ``{"blur", "sharp", "name"}`` like the paired datasets'; `sample` also returns what
    was drawn."""

    def __init__(self, sharp_dir: str | Path, seed: int, crop: int | None = None,
                 length: int | None = None, settings: SynthSettings = DEFAULT_SETTINGS
                 ) -> None:
        sharp_dir = Path(sharp_dir)
        if not sharp_dir.is_dir():
            raise ConfigError(f"no such folder: {sharp_dir}")
        self.photos = image_files(sharp_dir)
        if not self.photos:
            raise ConfigError(f"no sharp photos in {sharp_dir}")
        if crop is not None and crop < 1:
            raise ConfigError(f"crop must be a positive number of pixels, got {crop}")
        if length is not None and length < 1:
            raise ConfigError(f"a synthetic dataset needs at least one item, got {length}")
        self.seed, self.crop, self.settings = seed, crop, settings
        self.length = len(self.photos) if length is None else length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, object]:
        blur, sharp, name, _ = self.sample(index)
        return {"blur": to_tensor(blur), "sharp": to_tensor(sharp), "name": name}

    def sample(self, index: int) -> tuple[np.ndarray, np.ndarray, str, dict]:
        """(blurred, sharp, name, info) of item `index`, as float32 HxWx3 arrays. info is
        synthesize's plus the source photo and the crop's top-left corner."""
        if not 0 <= index < self.length:
            raise IndexError(f"item {index} of a {self.length}-item synthetic dataset")
        rng = np.random.default_rng([self.seed, index])
        photo = self.photos[index % len(self.photos)]
        sharp = load_rgb(photo)
        if self.crop is None:
            blurred, info = synthesize(sharp, rng, self.settings)
            origin = (0, 0)
        else:
            origin = crop_origin(sharp.shape, self.crop, rng, photo)
            sharp, blurred, info = self._blurred_crop(sharp, origin, rng)
        info = {"source": photo.name, "origin": list(origin), **info}
        return blurred, sharp, f"{index:06d}_{photo.stem}", info

    def _blurred_crop(self, photo: np.ndarray, origin: tuple[int, int],
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        """Blur the crop together with a margin of real photo around it, so that the blur
        near the crop's edges carries real content rather than a mirrored border; only
        beyond the photo's own edges is the border extended."""
        size, margin = self.crop, self.settings.margin
        y, x = origin
        top, left = max(0, y - margin), max(0, x - margin)
        window = photo[top:y + size + margin, left:x + size + margin]
        blurred, info = synthesize(window, rng, self.settings)
        cut = np.s_[y - top:y - top + size, x - left:x - left + size]
        return photo[y:y + size, x:x + size], np.ascontiguousarray(blurred[cut]), info
