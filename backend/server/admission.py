"""UploadSlots: how many images, and how many bytes of them, may be arriving at once.

An upload holds its whole image in memory until the job ends, and many clients uploading
at once (or opening calls and never finishing them) would otherwise exhaust the server's
memory. Used from the server's event loop only, so it needs no lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import ResourceExhausted


class UploadSlots:
    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.count = 0
        self.bytes = 0

    @contextmanager
    def admit(self, size: int) -> Iterator[None]:
        """Hold a slot for an upload of `size` bytes while the block runs. An upload larger
        than max_bytes is still admitted when it would be the only one, so that every image
        the server's pixel limit allows can be sent."""
        if self.count >= self.max_count:
            raise ResourceExhausted(f"{self.count} uploads are already arriving, the most "
                                    "this server receives at once; try again shortly")
        if self.count and self.bytes + size > self.max_bytes:
            raise ResourceExhausted(
                f"uploads of {_size(self.bytes)} are already arriving and this image adds "
                f"{_size(size)}, over the server's {_size(self.max_bytes)}; try again shortly")
        self.count += 1
        self.bytes += size
        try:
            yield
        finally:
            self.count -= 1
            self.bytes -= size


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count >= 1 << 20 else f"{count} bytes"
