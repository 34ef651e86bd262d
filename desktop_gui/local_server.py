"""LocalServer: an `osdd serve` process that the app starts, owns and stops."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend.errors import Unavailable
from backend.rpc.client import DeblurClient

log = logging.getLogger(__name__)


class LocalServer:
    """Start with start() (fast, call it on the UI thread: on Linux the server is tied
    to the thread that started it), then wait_ready() off the UI thread for its address.
    stop() ends it; it is also stopped at interpreter exit, and by the kernel when the
    app dies (see server_launcher)."""

    def __init__(self, python: str = sys.executable, extra_args: tuple[str, ...] = ()) -> None:
        self._python = python
        self._extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: Path | None = None
        self._stop_at_exit = False
        self.address: str | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        if self.running:
            return
        self.stop()
        self._folder = Path(tempfile.mkdtemp(prefix="osdd-gui-server-"))
        args = [self._python, "-m", "desktop_gui.server_launcher", str(os.getpid()),
                "serve", "--port", "0", "--port-file", str(self._folder / "address"),
                "--log-level", "info", *self._extra_args]
        with open(self._folder / "server.log", "wb") as log_file:
            self._process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log_file,
                                             stderr=subprocess.STDOUT)
        if not self._stop_at_exit:
            atexit.register(self.stop)
            self._stop_at_exit = True
        log.info("started a local server, pid %d", self._process.pid)

    def wait_ready(self, timeout: float = 120.0) -> str:
        """Block until the server serves; return its address or raise Unavailable."""
        process, folder = self._process, self._folder
        if process is None or folder is None:
            raise Unavailable("the local server is not started")
        deadline = time.monotonic() + timeout
        port_file = folder / "address"
        while not port_file.exists():
            if process.poll() is not None:
                raise Unavailable(f"the local server exited with code {process.returncode}: "
                                  f"{self.log_tail()}")
            if time.monotonic() > deadline:
                raise Unavailable(f"the local server did not start within {timeout:g} s")
            time.sleep(0.05)
        address = port_file.read_text().strip()
        with DeblurClient(address) as client:
            client.wait_until_serving(max(1.0, deadline - time.monotonic()))
        self.address = address
        return address

    def log_tail(self, lines: int = 5) -> str:
        """The last lines the server logged (where it says why it failed)."""
        if self._folder is None:
            return ""
        try:
            text = (self._folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """End the process (SIGTERM, then SIGKILL after `timeout` s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.info("stopped the local server, pid %d", process.pid)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self.address = None
