"""Receiving an image over the wire: the header's checks and the chunk assembler. Pure
domain logic (no protobuf), so the rules are tested without a server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidRequest
from ..types import JobSpec, Limits, PixelType, Region


@dataclass(frozen=True)
class ImageHeader:
    """The first message of a Deblur call, in domain terms."""

    width: int
    height: int
    channels: int
    pixel_type: PixelType | None
    engine: str = "auto"
    params: Mapping[str, float] = field(default_factory=dict)
    seed: int | None = None
    kernel: np.ndarray | None = None
    keep: Region | None = None

    @property
    def byte_count(self) -> int:
        assert self.pixel_type is not None
        return self.width * self.height * self.channels * self.pixel_type.dtype.itemsize


class ImageUpload:
    """Collects pixel chunks for one header and hands over a checked JobSpec."""

    def __init__(self, header: ImageHeader, limits: Limits) -> None:
        if header.width <= 0 or header.height <= 0:
            raise InvalidRequest(f"image size must be positive, got {header.width}x"
                                 f"{header.height}")
        if header.channels not in (1, 2, 3, 4):
            raise InvalidRequest(f"channels must be 1, 2, 3 or 4, got {header.channels}")
        if header.pixel_type is None:
            raise InvalidRequest("pixel_type must be set to u8, u16 or f32")
        limits.check_pixels(header.width, header.height)  # before allocating the buffer
        self.header = header
        self.limits = limits
        # Allocated with the first chunk: until then the server may still refuse the upload.
        self._buffer: bytearray | None = None
        self._filled = 0

    def probe(self) -> JobSpec:
        """The job with a zero-cost stand-in image of the header's shape, so engine and
        parameters can be checked before any pixels arrive."""
        h = self.header
        image = np.lib.stride_tricks.as_strided(np.zeros(1, h.pixel_type.dtype),
                                                (h.height, h.width, h.channels), (0, 0, 0))
        return JobSpec(image, h.engine or "auto", dict(h.params), h.seed, h.kernel, h.keep)

    @property
    def complete(self) -> bool:
        return self._filled == self.header.byte_count

    def add(self, chunk: bytes) -> None:
        if self._buffer is None:
            self._buffer = bytearray(self.header.byte_count)
        if len(chunk) > self.limits.max_chunk_bytes:
            raise InvalidRequest(f"pixel chunk of {len(chunk)} bytes exceeds the limit of "
                                 f"{self.limits.max_chunk_bytes} bytes")
        end = self._filled + len(chunk)
        if end > len(self._buffer):
            raise InvalidRequest(f"more pixel data than the header announced: the image is "
                                 f"{len(self._buffer)} bytes "
                                 f"({self.header.width}x{self.header.height}x"
                                 f"{self.header.channels} {self.header.pixel_type.value})")
        self._buffer[self._filled:end] = chunk
        self._filled = end

    def finish(self) -> JobSpec:
        if not self.complete:
            raise InvalidRequest(f"pixel data ended after {self._filled} of "
                                 f"{self.header.byte_count} bytes")
        h = self.header
        image = np.frombuffer(self._buffer, dtype=h.pixel_type.dtype).reshape(
            h.height, h.width, h.channels)
        if h.pixel_type is PixelType.F32 and not np.isfinite(image).all():
            raise InvalidRequest("float pixels must be finite (found NaN or infinity)")
        return JobSpec(image, h.engine or "auto", dict(h.params), h.seed, h.kernel, h.keep)
