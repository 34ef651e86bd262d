"""Document: one open image, its selection and the undo history of applied results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.errors import InvalidRequest
from backend.images import ImageMeta, read_image_file, write_image
from backend.types import Region

from .events import Listeners


@dataclass(frozen=True)
class Edit:
    """One applied result: the region and its pixels before and after."""

    region: Region
    before: np.ndarray
    after: np.ndarray


class Document:
    """An image being edited: HWC pixels (uint8, uint16 or float32) as now shown, the
    pixels as opened (for comparing), file metadata, the selected region and undo/redo.

    changed emits the Region whose pixels changed; state_changed emits None whenever the
    path, the unsaved-changes flag or the undo/redo availability may have changed.
    """

    def __init__(self, pixels: np.ndarray, meta: ImageMeta | None = None,
                 path: Path | None = None) -> None:
        if pixels.ndim == 2:
            pixels = pixels[:, :, None]
        self.pixels = np.array(pixels)
        self.original = np.array(pixels)
        self.original.flags.writeable = False
        self.meta = meta or ImageMeta()
        self.path = path
        self.selection: Region | None = None
        self._undo: list[Edit] = []
        self._redo: list[Edit] = []
        self._saved: Edit | None = None
        self.changed: Listeners[Region] = Listeners()
        self.selection_changed: Listeners[Region | None] = Listeners()
        self.state_changed: Listeners[None] = Listeners()

    @classmethod
    def open(cls, path: str | Path) -> Document:
        """Read an image file (EXIF orientation applied); raises InvalidRequest."""
        pixels, meta = read_image_file(path)
        return cls(pixels, meta, Path(path))

    @property
    def bounds(self) -> Region:
        return Region(0, 0, self.pixels.shape[1], self.pixels.shape[0])

    @property
    def title(self) -> str:
        return self.path.name if self.path else "untitled"

    def set_selection(self, region: Region | None) -> None:
        """Select a rectangle (clipped to the image); None or an empty one selects nothing."""
        if region is not None:
            region = region.intersect(self.bounds)
            if region.is_empty():
                region = None
        if region != self.selection:
            self.selection = region
            self.selection_changed.emit(region)

    def target(self) -> Region:
        """What a deblur works on: the selection, or the whole image."""
        return self.selection or self.bounds

    def apply(self, region: Region, pixels: np.ndarray) -> None:
        """Replace `region` with `pixels` (same dtype and channels) as one undoable step."""
        if region.intersect(self.bounds) != region or region.is_empty():
            raise InvalidRequest(f"region {region} is not inside the image")
        expected = (region.height, region.width, self.pixels.shape[2])
        if pixels.shape != expected or pixels.dtype != self.pixels.dtype:
            raise InvalidRequest(f"result of shape {pixels.shape} {pixels.dtype} does not fit "
                                 f"{expected} {self.pixels.dtype}")
        edit = Edit(region, np.array(self.pixels[region.slices]), np.array(pixels))
        self._undo.append(edit)
        self._redo.clear()
        self._put(region, edit.after)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        if self._undo:
            edit = self._undo.pop()
            self._redo.append(edit)
            self._put(edit.region, edit.before)

    def redo(self) -> None:
        if self._redo:
            edit = self._redo.pop()
            self._undo.append(edit)
            self._put(edit.region, edit.after)

    @property
    def dirty(self) -> bool:
        """True when the pixels differ from the last save (or from the file as opened)."""
        return (self._undo[-1] if self._undo else None) is not self._saved

    def save(self, path: str | Path | None = None) -> None:
        """Write the image atomically, keeping its metadata; to `path` or where it came
        from. Depth is kept where the format holds it (TIFF: 16-bit and float)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise InvalidRequest("choose a file name to save to")
        write_image(target, self.pixels, meta=self.meta)
        self.path = target
        self._saved = self._undo[-1] if self._undo else None
        self.state_changed.emit(None)

    def _put(self, region: Region, pixels: np.ndarray) -> None:
        self.pixels[region.slices] = pixels
        self.changed.emit(region)
        self.state_changed.emit(None)
