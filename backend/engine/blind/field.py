"""Spatially varying shake: a kernel per cell of a coarse grid, deconvolutions blended.

Camera rotation and depth make the blur differ across a large photo. One kernel for the
whole frame is then a compromise that sharpens part of it, or the guard's two windows
disagree and the photo is given up. ``estimate_shake`` checks a large photo's global
kernel against a confident estimate made far from the windows it came from; when they
disagree, every cell of a grid is estimated on its own, and a cell keeps the global kernel
unless its own two windows agree on a different one. ``deconvolve_at`` blends the cells'
deconvolutions with weights that fall linearly between cell centres and sum to 1, so a
tile's result does not depend on where the tiles fall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .api import deconvolve, estimate_at, estimate_blur, prior_for
from .crop import crop_size_for, textured_windows
from .guard import agreement
from .types import DEFAULT_KERNEL_SIZE, BlurEstimate

#: Cell side per estimation window side: the cell's two windows (one window apart at
#: most) then see mostly different content, as the guard needs (on smaller photos two
#: overlapping windows can agree on a wrong kernel).
_CELL_PER_WINDOW = 1.5
#: At most this many cells per side: each costs one two-window estimate.
_MAX_CELLS = 3
#: Agreement from which two kernels count as the same blur (the guard's doubt threshold).
_SAME_BLUR = 0.78


@dataclass(frozen=True)
class BlurField:
    """Kernels on a ``rows`` x ``cols`` grid of equal cells over an image of ``shape``
    (height, width); ``cells`` row by row. ``overall``: the whole photo's own estimate,
    the one reported as the job's kernel; a cell without its own kernel holds it."""

    shape: tuple[int, int]
    rows: int
    cols: int
    cells: tuple[BlurEstimate, ...]
    overall: BlurEstimate

    @property
    def own_kernels(self) -> int:
        """Cells that have a kernel of their own (not the overall one)."""
        return sum(cell is not self.overall for cell in self.cells)

    def cell_slices(self, r: int, c: int) -> tuple[slice, slice]:
        h, w = self.shape
        return (slice(r * h // self.rows, (r + 1) * h // self.rows),
                slice(c * w // self.cols, (c + 1) * w // self.cols))

    def weights(self, top: int, left: int, height: int, width: int) -> np.ndarray:
        """(rows * cols, height, width) blending weights of the cells over a rectangle."""
        wy = _axis_weights(self.shape[0], self.rows, top, height)
        wx = _axis_weights(self.shape[1], self.cols, left, width)
        return (wy[:, None, :, None] * wx[None, :, None, :]).reshape(-1, height, width)


def _axis_weights(length: int, n: int, start: int, count: int) -> np.ndarray:
    """(n, count) hat weights of n equal cells along one axis for pixels start..start+count:
    1 at a cell's centre, falling linearly to 0 at the next centre, flat beyond the outer
    ones; every pixel's weights sum to 1."""
    pos = (np.arange(start, start + count) + 0.5) * n / length - 0.5
    pos = np.clip(pos, 0.0, n - 1.0)
    low = np.minimum(np.floor(pos).astype(int), max(n - 2, 0))
    frac = pos - low
    out = np.zeros((n, count), np.float32)
    out[low, np.arange(count)] = 1.0 - frac
    if n > 1:
        out[low + 1, np.arange(count)] += frac
    return out


def grid_for(shape: tuple[int, int], ks: int) -> tuple[int, int] | None:
    """Rows and columns of the cell grid for a photo and kernel support; None when the
    photo is too small for two cells."""
    side = int(_CELL_PER_WINDOW * crop_size_for(ks))
    rows, cols = (min(_MAX_CELLS, n // side) for n in shape)
    return (rows, cols) if rows >= 1 and cols >= 1 and rows * cols >= 2 else None


def estimate_shake(luma: np.ndarray, max_kernel_size: int = DEFAULT_KERNEL_SIZE,
                   should_stop: Callable[[], bool] = lambda: False
                   ) -> BlurEstimate | BlurField:
    """The photo's blur: one estimate (see ``estimate_blur``), or a BlurField when the blur
    differs across a photo large enough for a grid. Deterministic; raises Cancelled within
    one alternation of ``should_stop`` turning True."""
    luma = np.asarray(luma, dtype=np.float32)
    if luma.ndim == 3:
        luma = luma.mean(axis=2)
    overall = estimate_blur(luma, max_kernel_size, should_stop)
    ks = overall.kernel.shape[0]
    grid = grid_for(luma.shape, ks) if ks > 1 else None
    if grid is None:
        return overall
    field = BlurField(luma.shape, *grid, cells=(), overall=overall)
    prior = prior_for(luma)
    done: dict[tuple[int, int], BlurEstimate] = {}

    def cell(rc: tuple[int, int]) -> BlurEstimate:
        if rc not in done:
            rows, cols = field.cell_slices(*rc)
            done[rc] = estimate_at(luma[rows, cols], ks, prior, should_stop, cell=True)
        return done[rc]

    if overall.confident and not overall.third_window:
        # Checked where the overall kernel was not estimated: a cell far from its windows.
        # Not when the first two windows disagreed: a blur that differs across the photo
        # is one reason they do (benchmarks/varying_shake.py's photo 0: its third window
        # agreed with one of them, and its cells were left unseen, 3.5 dB less).
        far = _farthest_cell(field, textured_windows(luma, crop_size_for(ks), count=2))
        if not _differs(cell(far), overall):
            return overall
    cells = []
    for r in range(field.rows):
        for c in range(field.cols):
            own = cell((r, c))
            cells.append(own if _differs(own, overall) else overall)
    if not any(c is not overall for c in cells):
        return overall
    return BlurField(field.shape, field.rows, field.cols, tuple(cells), overall)


def _differs(own: BlurEstimate, overall: BlurEstimate) -> bool:
    """A cell has a blur of its own when its two windows agree on a kernel the overall
    estimate does not match (a doubtful cell is no evidence either way)."""
    return own.confident and (not overall.confident
                              or agreement(own.kernel, overall.kernel) < _SAME_BLUR)


def _farthest_cell(field: BlurField, windows: list[tuple[slice, slice]]) -> tuple[int, int]:
    def centre(rows: slice, cols: slice) -> np.ndarray:
        return np.array([(rows.start + rows.stop) / 2, (cols.start + cols.stop) / 2])

    spots = [centre(*w) for w in windows]
    cells = [(r, c) for r in range(field.rows) for c in range(field.cols)]
    return max(cells, key=lambda rc: min(np.abs(centre(*field.cell_slices(*rc)) - s).max()
                                         for s in spots))


def deconvolve_at(image: np.ndarray, origin: tuple[int, int], blur: BlurEstimate | BlurField,
                  strength: float, noise: float | np.ndarray | None = None) -> np.ndarray:
    """``deconvolve`` for a rectangle of the photo whose top-left corner is ``origin``
    (row, column): with a BlurField, each cell's deconvolution weighted by the cell's
    blending weight; cells sharing a kernel are deconvolved once."""
    if isinstance(blur, BlurEstimate):
        return deconvolve(image, blur, strength, noise)
    height, width = image.shape[:2]
    weights = blur.weights(origin[0], origin[1], height, width)
    shared: dict[int, list[int]] = {}
    for i, estimate in enumerate(blur.cells):
        if weights[i].any():
            shared.setdefault(id(estimate), []).append(i)
    if len(shared) == 1:  # its weights sum to 1: the result is not rounded by them
        return deconvolve(image, blur.cells[next(iter(shared.values()))[0]], strength, noise)
    out = np.zeros(image.shape, np.float32)
    for members in shared.values():
        w = weights[members].sum(axis=0)
        result = deconvolve(image, blur.cells[members[0]], strength, noise)
        out += (w[..., None] if image.ndim == 3 else w) * result
    return np.clip(out, 0.0, 1.0)
