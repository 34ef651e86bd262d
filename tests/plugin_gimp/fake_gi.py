"""A small fake of the gi.repository modules the plug-in's GIMP adapter uses: images,
drawables with byte buffers in one babl format, a rectangular selection, layer masks, and
an undo stack of groups that `FakeImage.undo()` can pop (real GIMP offers plug-ins no
undo call)."""

from __future__ import annotations

import sys
import types
from enum import Enum

_SAMPLE_BYTES = {"u8": 1, "u16": 2, "float": 4}


def bytes_per_pixel(fmt: str) -> int:
    components, sample = fmt.split()
    return len(components.replace("'", "")) * _SAMPLE_BYTES[sample]


class FakeBuffer:
    def __init__(self, width: int, height: int, fmt: str, data: bytes | None = None) -> None:
        self.width, self.height, self.format = width, height, fmt
        self.bpp = bytes_per_pixel(fmt)
        self.data = bytearray(data if data is not None else width * height * self.bpp)
        self.sets = 0

    def _check(self, rect, fmt) -> None:
        assert fmt == self.format, f"asked for {fmt}, buffer holds {self.format}"
        assert rect.x >= 0 and rect.y >= 0 and rect.x + rect.width <= self.width and \
            rect.y + rect.height <= self.height, f"{rect} outside {self.width}x{self.height}"

    def get(self, rect, scale, fmt, abyss) -> bytes:
        self._check(rect, fmt)
        stride = self.width * self.bpp
        return b"".join(bytes(self.data[(rect.y + r) * stride + rect.x * self.bpp:
                                        (rect.y + r) * stride + (rect.x + rect.width) * self.bpp])
                        for r in range(rect.height))

    def set(self, rect, fmt, data) -> None:
        self._check(rect, fmt)
        assert len(data) == rect.width * rect.height * self.bpp, "wrong byte count"
        stride, row = self.width * self.bpp, rect.width * self.bpp
        for r in range(rect.height):
            start = (rect.y + r) * stride + rect.x * self.bpp
            self.data[start:start + row] = data[r * row:(r + 1) * row]
        self.sets += 1

    def flush(self) -> None:
        pass


class Rectangle:
    def __init__(self, x, y, width, height) -> None:
        self.x, self.y, self.width, self.height = x, y, width, height

    @classmethod
    def new(cls, x, y, width, height):
        return cls(x, y, width, height)

    def __repr__(self) -> str:
        return f"Rectangle({self.x}, {self.y}, {self.width}, {self.height})"


class FakeDrawable:
    def __init__(self, image, name, width, height, fmt, offsets=(0, 0), data=None) -> None:
        self.image, self.name = image, name
        self.width, self.height = width, height
        self.offsets = offsets
        self.buffer = FakeBuffer(width, height, fmt, data)
        self.shadow: FakeBuffer | None = None
        self.mask: str | None = None
        self.updates = 0

    # --- the Gimp.Drawable / Gimp.Layer methods the adapter calls
    def get_width(self):
        return self.width

    def get_height(self):
        return self.height

    def is_gray(self):
        return self.buffer.format.startswith("Y")

    def has_alpha(self):
        return "A " in self.buffer.format

    def type(self):
        return self.is_gray(), self.has_alpha()

    def get_buffer(self):
        return self.buffer

    def get_shadow_buffer(self):
        if self.shadow is None:
            self.shadow = FakeBuffer(self.width, self.height, self.buffer.format)
        return self.shadow

    def free_shadow(self):
        self.shadow = None

    def get_offsets(self):
        return True, *self.offsets

    def get_parent(self):
        return None

    def mask_intersect(self):
        sel = self.image.selection
        ox, oy = self.offsets
        if sel is None:
            return True, 0, 0, self.width, self.height
        x0, y0 = max(sel[0] - ox, 0), max(sel[1] - oy, 0)
        x1 = min(sel[0] + sel[2] - ox, self.width)
        y1 = min(sel[1] + sel[3] - oy, self.height)
        if x1 <= x0 or y1 <= y0:
            return False, 0, 0, 0, 0
        return True, x0, y0, x1 - x0, y1 - y0

    def merge_shadow(self, push_undo):
        ok, x, y, w, h = self.mask_intersect()
        rect = Rectangle(x, y, w, h)
        before = self.buffer.get(rect, 1.0, self.buffer.format, None)
        self.buffer.set(rect, self.buffer.format, self.shadow.get(rect, 1.0, self.buffer.format,
                                                                  None))
        if push_undo:
            self.image.record(lambda: self.buffer.set(rect, self.buffer.format, before))
        self.shadow = None
        return True

    def update(self, x, y, w, h):
        self.updates += 1

    def set_offsets(self, x, y):
        self.offsets = (x, y)

    def create_mask(self, kind):
        assert kind == Gimp.AddMaskType.SELECTION
        return f"selection {self.image.selection}"

    def add_mask(self, mask):
        self.mask = mask


class FakeImage:
    def __init__(self, precision: str = "u8-non-linear") -> None:
        self.precision = precision
        self.layers: list[FakeDrawable] = []
        self.selection: tuple[int, int, int, int] | None = None
        self.undo_stack: list[list] = []
        self._open: list | None = None
        self._depth = 0

    def add_layer(self, width, height, fmt, data=None, offsets=(0, 0)) -> FakeDrawable:
        layer = FakeDrawable(self, "Background", width, height, fmt, offsets, data)
        self.layers.append(layer)
        return layer

    def record(self, revert) -> None:
        if self._open is not None:
            self._open.append(revert)
        else:
            self.undo_stack.append([revert])

    def undo(self) -> None:
        for revert in reversed(self.undo_stack.pop()):
            revert()

    # --- the Gimp.Image methods the adapter calls
    def get_precision(self):
        return types.SimpleNamespace(value_nick=self.precision)

    def undo_group_start(self):
        if self._depth == 0:
            self._open = []
        self._depth += 1
        return True

    def undo_group_end(self):
        self._depth -= 1
        if self._depth == 0:
            self.undo_stack.append(self._open)
            self._open = None
        return True

    def insert_layer(self, layer, parent, position):
        self.layers.insert(position, layer)
        self.record(lambda: self.layers.remove(layer))

    def remove_layer(self, layer):
        position = self.layers.index(layer)
        self.layers.remove(layer)
        self.record(lambda: self.layers.insert(position, layer))

    def get_item_position(self, item):
        return self.layers.index(item)


class _Layer:
    @staticmethod
    def new(image, name, width, height, kind, opacity, mode):
        gray, alpha = kind
        base = next(layer for layer in image.layers).buffer.format.split()[1]
        prime = "" if image.precision.split("-", 1)[1] == "linear" else "'"
        components = f"Y{prime}" if gray else f"R{prime}G{prime}B{prime}"
        return FakeDrawable(image, name, width, height,
                            f"{components}{'A' if alpha else ''} {base}")


def install() -> types.SimpleNamespace:
    """Put fake gi modules into sys.modules; returns the fake Gimp (for its call log)."""
    global Gimp
    calls: list[tuple] = []
    Gimp = types.SimpleNamespace(
        Layer=_Layer,
        LayerMode=Enum("LayerMode", "NORMAL"),
        AddMaskType=Enum("AddMaskType", "SELECTION"),
        Selection=types.SimpleNamespace(is_empty=lambda image: image.selection is None),
        progress_update=lambda f: calls.append(("progress", f)),
        progress_set_text=lambda t: calls.append(("text", t)),
        displays_flush=lambda: None,
        calls=calls,
    )
    Gegl = types.SimpleNamespace(Rectangle=Rectangle,
                                 AbyssPolicy=Enum("AbyssPolicy", "CLAMP NONE"))
    repository = types.ModuleType("gi.repository")
    repository.Gimp, repository.Gegl = Gimp, Gegl
    gi = types.ModuleType("gi")
    gi.require_version = lambda name, version: None
    gi.repository = repository
    sys.modules["gi"], sys.modules["gi.repository"] = gi, repository
    return Gimp
