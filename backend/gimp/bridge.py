"""`osdd bridge`: the GIMP plug-in's link to the server.

GIMP's Python may lack grpcio and numpy, so the plug-in runs this process from the
project's environment and talks to it over stdin/stdout in frames (osdd_framing, which
both ends import). Requests: "info" and "deblur" (+ pixels); while a deblur runs,
"cancel" or the end of stdin (GIMP kills a plug-in whose progress is cancelled) stops the
server's job. Replies: "info", "accepted", "queued", "progress", "tile" (+ pixels, already
cut to the part the plug-in keeps), "done" or "error" (kind + message for the user).
"""

from __future__ import annotations

import logging
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

import numpy as np

from osdd_framing import REPLIES, REQUESTS, FramingError, read_frame, write_frame

from ..errors import ConfigError, InvalidRequest, OsddError, Unavailable
from ..rpc.client import ConnectionSettings, DeblurClient
from ..types import Accepted, Done, Progress, Queued, Region, TileResult

log = logging.getLogger(__name__)
DTYPES = {"u8": np.dtype(np.uint8), "u16": np.dtype("=u2"), "f32": np.dtype("=f4")}
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_EOF = object()


class Bridge:
    """Serves one plug-in session: requests in on `inp`, replies out on `out`."""

    def __init__(self, inp: BinaryIO, out: BinaryIO, serve_command: list[str] | None = None,
                 start_timeout: float = 120.0) -> None:
        self.out = out
        self.serve_command = serve_command or [sys.executable, "-m", "backend.cli", "serve"]
        self.start_timeout = start_timeout
        self._inbox: queue.Queue = queue.Queue()
        self._call = None
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, args=(inp,), daemon=True,
                                        name="bridge-reader")

    def run(self) -> int:
        self._reader.start()
        while (item := self._inbox.get()) is not _EOF:
            header, payload = item
            try:
                self._handle(header, payload)
            except OsddError as exc:
                self._send({"type": "error", "error": type(exc).__name__,
                            "message": str(exc)})
            except Exception as exc:  # a bug here must reach the user as a message
                log.exception("bridge request failed")
                self._send({"type": "error", "error": "InternalError",
                            "message": f"the bridge failed: {exc}"})
        return 0

    def _read(self, inp: BinaryIO) -> None:
        try:
            while (frame := read_frame(inp)) is not None:
                if frame[0]["type"] == "cancel":
                    self._cancel()
                else:
                    self._inbox.put(frame)
        except (FramingError, OSError) as exc:
            log.error("bad input from the plug-in: %s", exc)
        self._cancel()  # the plug-in is gone: stop whatever runs for it
        self._inbox.put(_EOF)

    def _cancel(self) -> None:
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def _send(self, header: dict, payload: bytes = b"") -> None:
        REPLIES.check(header)  # a reply the plug-in would refuse is our bug: say so here
        try:
            write_frame(self.out, header, payload)
        except (BrokenPipeError, ValueError):
            self._cancel()

    def _handle(self, header: dict, payload: bytes) -> None:
        try:
            REQUESTS.check(header)
        except FramingError as exc:
            raise InvalidRequest(str(exc)) from None
        kind = header["type"]
        if kind == "info":
            with self._connect(header) as client:
                self._send(_info_message(client.info()))
        else:  # "deblur": the only other declared request ("cancel" is handled as it arrives)
            self._deblur(header, payload)

    def _connect(self, header: dict) -> DeblurClient:
        # What the plug-in leaves empty comes from the bridge's environment (OSDD_SERVER,
        # OSDD_TOKEN, OSDD_TLS_CA), as for every front end.
        settings = ConnectionSettings.resolve(str(header.get("server") or "") or None,
                                              header.get("token") or None,
                                              header.get("tls_ca") or None)
        address = settings.address
        client = settings.client()
        try:
            client.wait_until_serving(timeout=2.0)
        except Unavailable:
            if not header.get("autostart"):
                client.close()
                raise Unavailable(f"no osdd server at {address}. Start one with `osdd serve`, "
                                  "or allow the plug-in to start a local server.") from None
            self._start_server(address)
            client.wait_until_serving(timeout=self.start_timeout)
        return client

    def _start_server(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if host not in _LOOPBACK or not port.isdigit():
            raise ConfigError(f"can only start a local server on this machine, not at {address}")
        log_file = Path(tempfile.gettempdir()) / f"osdd-server-{port}.log"
        self._send({"type": "progress", "done": 0, "total": 0,
                    "message": f"starting a local server on port {port} (log: {log_file})"})
        with open(log_file, "ab") as sink:
            # Its own session: the server outlives this bridge and serves the next run too.
            subprocess.Popen([*self.serve_command, "--port", port], stdin=subprocess.DEVNULL,
                             stdout=sink, stderr=sink, start_new_session=True)

    def _deblur(self, header: dict, payload: bytes) -> None:
        image, keep = _image_from(header, payload)
        seed = _seed_of(header)  # checked with the image, before any server is reached
        with self._connect(header) as client:
            # The server estimates the blur on all the plug-in sent and returns `keep` only.
            call = client.deblur(image, engine=str(header.get("engine") or "auto"),
                                 params={k: float(v) for k, v in
                                         dict(header.get("params") or {}).items()},
                                 seed=seed, keep=keep)
            with self._lock:
                self._call = call
            try:
                for event in call:
                    self._relay(event)
            finally:
                with self._lock:
                    self._call = None

    def _relay(self, event) -> None:
        if isinstance(event, Accepted):
            self._send({"type": "accepted"})
        elif isinstance(event, Queued):
            self._send({"type": "queued", "position": event.queue_position})
        elif isinstance(event, Progress):
            self._send({"type": "progress", "done": event.tiles_done,
                        "total": event.tiles_total, "message": event.message})
        elif isinstance(event, TileResult):
            r = event.region
            self._send({"type": "tile", "x": r.x, "y": r.y, "width": r.width,
                        "height": r.height}, np.ascontiguousarray(event.pixels).tobytes())
        elif isinstance(event, Done):
            self._send({"type": "done", "engine": event.engine, "device": event.device,
                        "seconds": round(event.total_seconds, 3)})


def _seed_of(header: dict) -> int | None:
    seed = header.get("seed")  # an int when present: REQUESTS declares it so
    if seed is None:
        return None
    if seed < 0:
        raise InvalidRequest(f"bad deblur request from the plug-in: seed must be a "
                             f"whole number from 0, got {seed!r}")
    return seed


def _image_from(header: dict, payload: bytes) -> tuple[np.ndarray, Region]:
    try:
        width, height = int(header["width"]), int(header["height"])
        channels, dtype = int(header["channels"]), DTYPES[header["dtype"]]
        keep = Region(*(int(v) for v in header.get("keep") or (0, 0, width, height)))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(f"bad deblur request from the plug-in: {exc!r}") from None
    expected = width * height * channels * dtype.itemsize
    if len(payload) != expected:
        raise InvalidRequest(f"the plug-in sent {len(payload)} bytes of pixels, "
                             f"{width}x{height}x{channels} {header['dtype']} needs {expected}")
    image = np.frombuffer(payload, dtype).reshape(height, width, channels)
    return image, keep.intersect(Region(0, 0, width, height))


def _info_message(info) -> dict:
    return {"type": "info", "version": info.version, "default_engine": info.default_engine,
            "device": info.device,
            "engines": [{"name": e.name, "description": e.description,
                         "params": [{"name": p.name, "type": p.type, "default": p.default,
                                     "minimum": p.minimum, "maximum": p.maximum,
                                     "step": p.step, "description": p.description}
                                    for p in e.params]}
                        for e in info.engines]}


def main() -> int:
    """Frames on the real stdin/stdout; logs go to stderr (GIMP shows them in its log)."""
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the plug-in
    return Bridge(sys.stdin.buffer, out).run()
