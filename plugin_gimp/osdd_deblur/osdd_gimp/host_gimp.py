"""The GIMP side of a run: pixels through the drawable's GEGL buffers at the image's own
precision, results into a new layer or the drawable, all in one undo group."""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

from .geometry import Rect  # noqa: E402
from .job import PixelFormat  # noqa: E402

LAYER_NAME = "Motion Deblur (OSDD)"
# Sample types GIMP can hold -> what crosses the pipe. Higher-precision integers and
# half/double go as float32, which keeps every 16-bit value exactly.
_SAMPLES = {"u8": ("u8", "u8"), "u16": ("u16", "u16"), "u32": ("float", "f32"),
            "half": ("float", "f32"), "float": ("float", "f32"), "double": ("float", "f32")}


def babl_format(precision_nick: str, gray: bool, alpha: bool) -> tuple[str, PixelFormat]:
    """Babl format string and wire format for an image precision such as
    "u16-non-linear" or "float-linear" and a drawable's colour model."""
    sample, trc = precision_nick.split("-", 1)
    babl_type, wire = _SAMPLES[sample]
    prime = "" if trc == "linear" else "'"
    components = f"Y{prime}" if gray else f"R{prime}G{prime}B{prime}"
    channels = (1 if gray else 3) + alpha
    return (f"{components}{'A' if alpha else ''} {babl_type}", PixelFormat(channels, wire))


class GimpHost:
    """One drawable of one image; output "new-layer" or "in-place"."""

    def __init__(self, image, drawable, output: str) -> None:
        self.image = image
        self.drawable = drawable
        self.output = output
        self.bounds = Rect(0, 0, drawable.get_width(), drawable.get_height())
        nick = image.get_precision().value_nick
        self.format, self.pixel_format = babl_format(nick, drawable.is_gray(),
                                                     drawable.has_alpha())
        self._layer = None
        self._buffer = None
        self._keep: Rect | None = None

    def target(self) -> Rect:
        ok, x, y, width, height = self.drawable.mask_intersect()
        return Rect(x, y, width, height) if ok else Rect(0, 0, 0, 0)

    def read(self, rect: Rect) -> bytes:
        buffer = self.drawable.get_buffer()
        return bytes(buffer.get(_gegl(rect), 1.0, self.format, Gegl.AbyssPolicy.CLAMP))

    def begin(self, keep: Rect, original: bytes) -> None:
        self._keep = keep
        if self.output == "in-place":
            # Tiles collect in the shadow buffer; the drawable changes once, in commit.
            self._buffer = self.drawable.get_shadow_buffer()
            return
        self.image.undo_group_start()
        _, off_x, off_y = self.drawable.get_offsets()
        layer = Gimp.Layer.new(self.image, LAYER_NAME, keep.width, keep.height,
                               self.drawable.type(), 100.0, Gimp.LayerMode.NORMAL)
        self.image.insert_layer(layer, self.drawable.get_parent(),
                                self.image.get_item_position(self.drawable))
        layer.set_offsets(off_x + keep.x, off_y + keep.y)
        self._layer = layer
        self._buffer = layer.get_buffer()
        # Start as a copy of the original, so areas not yet deblurred look unchanged.
        self._buffer.set(_gegl(Rect(0, 0, keep.width, keep.height)), self.format, original)
        if not Gimp.Selection.is_empty(self.image):
            layer.add_mask(layer.create_mask(Gimp.AddMaskType.SELECTION))
        self._buffer.flush()
        layer.update(0, 0, keep.width, keep.height)

    def write(self, rect: Rect, data: bytes) -> None:
        if self._layer is not None:
            rect = rect.relative_to(self._keep)
        self._buffer.set(_gegl(rect), self.format, data)
        if self._layer is not None:  # shown as it arrives
            self._buffer.flush()
            self._layer.update(rect.x, rect.y, rect.width, rect.height)
            Gimp.displays_flush()

    def commit(self) -> None:
        self._buffer.flush()
        if self._layer is None:
            self.image.undo_group_start()
            self.drawable.merge_shadow(True)  # through the selection mask; pushes the undo
            keep = self._keep
            self.drawable.update(keep.x, keep.y, keep.width, keep.height)
        self.image.undo_group_end()
        Gimp.displays_flush()

    def rollback(self) -> None:
        if self._layer is not None:
            self.image.remove_layer(self._layer)
            self.image.undo_group_end()
        else:
            self.drawable.free_shadow()
        Gimp.displays_flush()

    def progress(self, fraction: float, text: str = "") -> None:
        if text:
            Gimp.progress_set_text(text)
        Gimp.progress_update(min(max(fraction, 0.0), 1.0))


def _gegl(rect: Rect):
    return Gegl.Rectangle.new(rect.x, rect.y, rect.width, rect.height)
