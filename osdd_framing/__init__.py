"""The wire format between the GIMP plug-in and `osdd bridge`: frames on a byte stream.

A frame is a 4-byte big-endian header length, a UTF-8 JSON object (the header), then
`header["bytes"]` raw bytes of payload (pixels; 0 when absent).

Both ends import this package: the bridge (backend/gimp/bridge.py) and the plug-in
(plugin_gimp/osdd_deblur/osdd_gimp/bridge_client.py). It belongs to neither, so the server
side never imports the plug-in, and it imports nothing but the standard library, as
GIMP's own Python may have nothing else. `osdd gimp install` copies it into the installed
plug-in's folder, next to osdd_gimp/, so the plug-in stays self-contained there.

The messages themselves are declared here too (REQUESTS, REPLIES): every field a header
may carry, its JSON types and whether it must be there. The bridge checks each request
and reply against them, the plug-in each reply, so a field added on one side and not
declared fails at once, with its name, on both.
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


class Schema:
    """The headers one side may send: ``messages[type][field] = (types, required)``,
    types being Python types of decoded JSON (None: null). Every header also has "type"
    and the "bytes" write_frame adds."""

    def __init__(self, name: str, messages: dict[str, dict[str, tuple[tuple, bool]]]) -> None:
        self.name = name
        self.messages = messages

    def check(self, header: dict) -> None:
        """Raises FramingError naming the first field that breaks the declaration."""
        kind = header.get("type")
        fields = self.messages.get(kind) if isinstance(kind, str) else None
        if fields is None:
            raise FramingError(f"unknown {self.name} {kind!r}")
        for field in header:
            if field not in fields and field not in ("type", "bytes"):
                raise FramingError(f"a {kind!r} {self.name} has no field {field!r}")
        for field, (types, required) in fields.items():
            if field not in header:
                if required:
                    raise FramingError(f"a {kind!r} {self.name} needs {field!r}")
                continue
            value = header[field]
            allowed = tuple(type(None) if t is None else t for t in types)
            # JSON true/false decode to bool, which Python counts as an int.
            if not isinstance(value, allowed) or isinstance(value, bool) and bool not in types:
                names = " or ".join("null" if t is None else t.__name__ for t in types)
                raise FramingError(f"{field!r} of a {kind!r} {self.name} must be {names}, "
                                   f"not {value!r}")


_TEXT, _MAYBE_TEXT, _INT, _NUMBER = (str,), (str, None), (int,), (int, float)
#: Where the server is and how to reach it: optional, the bridge's environment fills gaps.
_CONNECTION = {"server": (_MAYBE_TEXT, False), "token": (_MAYBE_TEXT, False),
               "tls_ca": (_MAYBE_TEXT, False), "autostart": ((bool,), False)}

#: Plug-in -> bridge. A deblur request's payload is the pixels, rows of width x channels.
REQUESTS = Schema("bridge request", {
    "info": dict(_CONNECTION),
    "deblur": {**_CONNECTION, "engine": (_TEXT, False), "params": ((dict,), False),
               "seed": (_INT, False), "width": (_INT, True), "height": (_INT, True),
               "channels": (_INT, True), "dtype": (_TEXT, True),
               "keep": ((list, None), False)},
    "cancel": {},
})

#: Bridge -> plug-in. A tile's payload is its pixels, in the request's dtype and channels.
REPLIES = Schema("bridge reply", {
    "info": {"version": (_TEXT, True), "default_engine": (_TEXT, True),
             "device": (_TEXT, True), "engines": ((list,), True)},
    "accepted": {},
    "queued": {"position": (_INT, True)},
    "progress": {"done": (_INT, True), "total": (_INT, True), "message": (_TEXT, True)},
    "tile": {"x": (_INT, True), "y": (_INT, True), "width": (_INT, True),
             "height": (_INT, True)},
    "done": {"engine": (_TEXT, True), "device": (_TEXT, True), "seconds": (_NUMBER, True)},
    "error": {"error": (_TEXT, True), "message": (_TEXT, True)},
})
