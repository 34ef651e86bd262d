"""Rectangles in pixel coordinates: the region to deblur, its context margin, tiles.

The server side has its own Region (backend.types); the plug-in cannot import the
backend (GIMP's Python lacks numpy and grpcio), hence this small twin."""

from __future__ import annotations

from typing import NamedTuple


class Rect(NamedTuple):
    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    def intersect(self, other: Rect) -> Rect:
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Rect(x, y, max(0, right - x), max(0, bottom - y))

    def grow(self, margin: int, bounds: Rect) -> Rect:
        """This rectangle with `margin` pixels of context on every side, within bounds."""
        grown = Rect(self.x - margin, self.y - margin, self.width + 2 * margin,
                     self.height + 2 * margin)
        return grown.intersect(bounds)

    def moved(self, dx: int, dy: int) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.width, self.height)

    def relative_to(self, origin: Rect) -> Rect:
        return self.moved(-origin.x, -origin.y)


def crop_rows(data: bytes, width: int, bpp: int, inner: Rect) -> bytes:
    """Pixels of `inner` (coordinates within a width-pixel-wide packed image)."""
    stride = width * bpp
    start, length = inner.x * bpp, inner.width * bpp
    return b"".join(data[row * stride + start:row * stride + start + length]
                    for row in range(inner.y, inner.bottom))
