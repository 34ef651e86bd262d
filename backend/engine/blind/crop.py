"""Choice of the window used for kernel estimation, so its cost does not grow with the image."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

#: Pixels the texture search looks at (the image is block-averaged down to about this many).
_SEARCH_PIXELS = 1_000_000


def crop_size_for(kernel_size: int) -> int:
    """Side of the estimation window (px) for a kernel support: a few kernels wide."""
    return int(max(384, 6 * kernel_size))


def textured_windows(luma: np.ndarray, size: int, count: int = 2) -> list[tuple[slice, slice]]:
    """Slices of up to ``count`` ``size`` x ``size`` windows (or the whole image if smaller)
    with the most gradient energy, ignoring near-saturated pixels (clipping breaks the blur
    model). Later windows are pushed away from earlier ones (half a window at least, else as
    far as the image allows), so they see different content. The first window, the one the
    kernel is aligned to, always has the full size (the whole image when that is small)."""
    h, w = luma.shape
    ch, cw = min(size, h), min(size, w)
    f = max(1, int(np.ceil(np.sqrt(h * w / _SEARCH_PIXELS))))
    hs, ws = h // f, w // f
    small = luma[: hs * f, : ws * f].reshape(hs, f, ws, f).mean(axis=(1, 3))
    gy, gx = np.gradient(small)
    energy = np.sqrt(gx * gx + gy * gy)
    energy[(small > 0.97) | (small < 0.02)] = 0.0
    if count > 1 and 2 * (h - ch) < ch and 2 * (w - cw) < cw:
        # No room to move a second window by half its size: shrink the later windows so
        # that they see partly different content (else the guard compares a crop with
        # itself); shrinking the first would cost the estimate context.
        shrunk = max(16, min(ch, (3 * h) // 4)), max(16, min(cw, (3 * w) // 4))
        return (_pick(energy, f, (h, w), (ch, cw), 1)
                + _pick(energy, f, (h, w), shrunk, count)[1:])
    return _pick(energy, f, (h, w), (ch, cw), count)


def _pick(energy: np.ndarray, f: int, image: tuple[int, int], window: tuple[int, int],
          count: int) -> list[tuple[slice, slice]]:
    """``count`` windows of ``window`` (h, w) px on the ``energy`` map, which is the image
    block-averaged by ``f``."""
    (h, w), (ch, cw) = image, window
    hs, ws = energy.shape
    wh, ww = max(1, ch // f), max(1, cw // f)
    score = ndimage.uniform_filter(energy, (wh, ww), mode="constant")
    # Window tops (in the small grid) for which the whole window fits in the image.
    r0, c0 = wh // 2, ww // 2
    valid = score[r0: max(r0 + 1, hs - (wh - wh // 2) + 1),
                  c0: max(c0 + 1, ws - (ww - ww // 2) + 1)]
    tops = np.indices(valid.shape).reshape(2, -1).T
    vals = valid.reshape(-1).astype(np.float64)
    chosen: list[np.ndarray] = []
    out = []
    for _ in range(count):
        if chosen:
            d = np.min([np.abs(tops - c).max(axis=1) for c in chosen], axis=0)
            far = d >= max(wh, ww) / 2
            pick = int(np.argmax(np.where(far, vals, -np.inf))) if far.any() else int(np.argmax(d))
        else:
            pick = int(np.argmax(vals))
        chosen.append(tops[pick])
        top = int(np.clip(tops[pick][0] * f, 0, h - ch))
        left = int(np.clip(tops[pick][1] * f, 0, w - cw))
        out.append((slice(top, top + ch), slice(left, left + cw)))
    return out
