"""One run of the filter, independent of GIMP: read the region with its context margin,
send it through the bridge, paste the tiles as they arrive, commit or roll back.

The host (GIMP, or a fake in the tests) is reached only through the `Host` methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .bridge_client import BridgeClient, BridgeError
from .geometry import Rect, crop_rows
from .settings import Settings


@dataclass(frozen=True)
class PixelFormat:
    """How the host's pixels cross the pipe: channels (alpha last) and sample type."""

    channels: int
    dtype: str  # "u8", "u16" or "f32"

    @property
    def bytes_per_pixel(self) -> int:
        return self.channels * {"u8": 1, "u16": 2, "f32": 4}[self.dtype]


class Host(Protocol):
    bounds: Rect  # the drawable, in its own coordinates
    pixel_format: PixelFormat

    def target(self) -> Rect:
        """The selection's bounds within the drawable (the whole drawable without one)."""

    def read(self, rect: Rect) -> bytes: ...

    def begin(self, keep: Rect, original: bytes) -> None:
        """Prepare to receive the result for `keep` (first tile about to arrive)."""

    def write(self, rect: Rect, data: bytes) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None:
        """Undo everything since begin(): the image must be exactly as before."""

    def progress(self, fraction: float, text: str = "") -> None: ...


@dataclass(frozen=True)
class Outcome:
    engine: str
    device: str
    seconds: float
    tiles: int


def choose_engine(info: dict, wanted: str) -> dict:
    """The server's description of the engine to use; BridgeError when it has none such."""
    name = info.get("default_engine") if wanted == "auto" else wanted
    for engine in info.get("engines", []):
        if engine["name"] == name:
            return engine
    offered = ", ".join(e["name"] for e in info.get("engines", [])) or "none"
    raise BridgeError("EngineUnavailable", f"the server has no {name!r} engine (it offers: "
                      f"{offered}); choose another engine, or start the server with weights "
                      "for the osdd engine")


def deblur(host: Host, settings: Settings, bridge: BridgeClient) -> Outcome:
    """Run the whole job; raises BridgeError (image untouched) when anything fails."""
    settings.check()
    keep = host.target()
    if keep.is_empty():
        raise BridgeError("InvalidRequest", "the selection does not overlap the active layer")
    sent = keep.grow(settings.margin, host.bounds)
    host.progress(0.0, f"Motion Deblur: contacting {settings.server}")
    info = server_info(bridge, settings, settings.autostart, host.progress)
    engine = choose_engine(info, settings.engine)
    fmt = host.pixel_format
    original = host.read(sent)
    inner = keep.relative_to(sent)
    request = {"type": "deblur", **settings.connection(), "engine": engine["name"],
               "params": settings.params_for(engine), **settings.job_fields(),
               "width": sent.width,
               "height": sent.height, "channels": fmt.channels, "dtype": fmt.dtype,
               "keep": list(inner)}
    started = False
    tiles = 0
    try:
        for reply, data in bridge.request(request, original):
            kind = reply["type"]
            if kind == "progress":
                total = reply.get("total") or 0
                host.progress(reply.get("done", 0) / total if total else 0.0,
                              reply.get("message") or f"Motion Deblur ({engine['name']})")
            elif kind == "queued":
                host.progress(0.0, f"waiting for the server (position {reply['position']})")
            elif kind == "tile":
                rect = _tile_rect(reply, inner, len(data), fmt)
                if not started:
                    host.begin(keep, crop_rows(original, sent.width, fmt.bytes_per_pixel,
                                               inner))
                    started = True
                host.write(rect.moved(sent.x, sent.y), data)
                tiles += 1
            elif kind == "done":
                if not started:
                    raise BridgeError("InternalError", "the server finished without a result")
                host.commit()
                return Outcome(reply.get("engine", engine["name"]), reply.get("device", ""),
                               float(reply.get("seconds", 0.0)), tiles)
        raise BridgeError("InternalError", "the bridge ended the job without finishing it")
    except BaseException:
        if started:
            host.rollback()
        raise


def server_info(bridge: BridgeClient, settings: Settings, autostart: bool,
                report=lambda fraction, text: None) -> dict:
    """The server's GetInfo as a dict (starting a local server first when allowed)."""
    for reply, _ in bridge.request({"type": "info", **settings.connection(autostart)}):
        if reply["type"] == "progress":
            report(0.0, reply.get("message", ""))
        elif reply["type"] == "info":
            return reply
    raise BridgeError("InternalError", "the bridge did not describe the server")


def _tile_rect(reply: dict, inner: Rect, size: int, fmt: PixelFormat) -> Rect:
    """The tile's rectangle in sent-image coordinates, after checking it is sane."""
    try:
        rect = Rect(int(reply["x"]), int(reply["y"]), int(reply["width"]), int(reply["height"]))
    except (KeyError, TypeError, ValueError):
        raise BridgeError("InternalError", f"bad tile from the bridge: {reply}") from None
    if rect.is_empty() or rect.intersect(inner) != rect:
        raise BridgeError("InternalError", f"tile {tuple(rect)} lies outside the region")
    if size != rect.width * rect.height * fmt.bytes_per_pixel:
        raise BridgeError("InternalError", f"tile {tuple(rect)} came with {size} bytes")
    return rect
