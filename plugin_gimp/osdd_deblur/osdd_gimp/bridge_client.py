"""The plug-in's end of the bridge: starts `osdd bridge` and exchanges frames with it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

from osdd_framing import REPLIES, FramingError, read_frame, write_frame

CONFIG = "bridge.json"
_FINAL = ("info", "done", "error")


class BridgeError(Exception):
    """Something the user must be told: kind is the server's error class name (or ours)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def bridge_command(plugin_dir: Path) -> list[str]:
    """The command `osdd gimp install` wrote next to the plug-in."""
    path = Path(plugin_dir) / CONFIG
    try:
        command = json.loads(path.read_text())["command"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BridgeError("NotInstalled", f"the plug-in is not set up ({path} is missing or "
                          "broken): run `osdd gimp install` from the osdd-deblur "
                          "environment, then restart GIMP") from None
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise BridgeError("NotInstalled", f"{path}: 'command' must be a list of strings")
    return command


class BridgeClient:
    """One `osdd bridge` process for the duration of a plug-in run."""

    def __init__(self, command: list[str]) -> None:
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE)
        except OSError as exc:
            raise BridgeError("NotInstalled", f"cannot start the bridge {command[0]!r} ({exc}):"
                              " reinstall with `osdd gimp install`") from None

    def request(self, header: dict, payload: bytes = b"") -> Iterator[tuple[dict, bytes]]:
        """Send one request; yield its replies up to and including the final one
        ("info", "done"; an "error" reply raises BridgeError)."""
        try:
            write_frame(self._process.stdin, header, payload)
        except OSError:
            raise self._died() from None
        while True:
            try:
                frame = read_frame(self._process.stdout)
                if frame is not None:
                    REPLIES.check(frame[0])
            except (FramingError, OSError) as exc:
                raise BridgeError("InternalError", f"bad answer from the bridge: {exc}") from None
            if frame is None:
                raise self._died()
            reply, data = frame
            if reply["type"] == "error":
                raise BridgeError(str(reply.get("error", "InternalError")),
                                  str(reply.get("message", "unknown error")))
            yield reply, data
            if reply["type"] in _FINAL:
                return

    def cancel(self) -> None:
        try:
            write_frame(self._process.stdin, {"type": "cancel"})
        except OSError:
            pass

    def close(self) -> None:
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _died(self) -> BridgeError:
        code = self._process.poll()
        return BridgeError("InternalError", f"the bridge stopped unexpectedly (exit code "
                           f"{code}); GIMP's error console or terminal shows its log")

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
