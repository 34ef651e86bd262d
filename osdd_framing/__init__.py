"""The wire format between the GIMP plug-in and `osdd bridge`: frames on a byte stream.

A frame is a 4-byte big-endian header length, a UTF-8 JSON object (the header), then
`header["bytes"]` raw bytes of payload (pixels; 0 when absent).

Both ends import this package: the bridge (backend/gimp/bridge.py) and the plug-in
(plugin_gimp/osdd_deblur/osdd_gimp/bridge_client.py). It belongs to neither, so the server
side never imports the plug-in, and it imports nothing but the standard library, as
GIMP's own Python may have nothing else. `osdd gimp install` copies it into the installed
plug-in's folder, next to osdd_gimp/, so the plug-in stays self-contained there.
"""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

MAX_HEADER = 1 << 20
MAX_PAYLOAD = 1 << 32
_LENGTH = struct.Struct(">I")


class FramingError(Exception):
    """The other side sent something that is not a frame (or closed mid-frame)."""


def write_frame(stream: BinaryIO, header: dict, payload: bytes = b"") -> None:
    header = {**header, "bytes": len(payload)}
    text = json.dumps(header, separators=(",", ":")).encode()
    stream.write(_LENGTH.pack(len(text)) + text)
    if payload:
        stream.write(payload)
    stream.flush()


def _read_exact(stream: BinaryIO, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise FramingError(f"stream closed with {left} of {count} bytes missing")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> tuple[dict, bytes] | None:
    """The next (header, payload), or None when the stream ends cleanly between frames."""
    first = stream.read(_LENGTH.size)
    if not first:
        return None
    if len(first) < _LENGTH.size:
        first += _read_exact(stream, _LENGTH.size - len(first))
    (length,) = _LENGTH.unpack(first)
    if not 0 < length <= MAX_HEADER:
        raise FramingError(f"bad frame header length {length}")
    try:
        header = json.loads(_read_exact(stream, length))
    except ValueError as exc:
        raise FramingError(f"frame header is not JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise FramingError("frame header must be an object with a 'type'")
    size = header.get("bytes", 0)
    if not isinstance(size, int) or not 0 <= size < MAX_PAYLOAD:
        raise FramingError(f"bad payload size {size!r}")
    return header, _read_exact(stream, size) if size else b""
