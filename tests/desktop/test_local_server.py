"""The app's own server process: started, serving, stopped, and gone when the app is."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backend.errors import Unavailable
from backend.rpc.client import DeblurClient
from desktop_gui.local_server import LocalServer


def gone(pid: int, within: float = 15.0) -> bool:
    """True once `pid` has exited (a zombie nobody reaped counts as exited)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def test_local_server_starts_serves_and_stops():
    local = LocalServer(extra_args=("--grace", "1"))
    local.start()
    try:
        address = local.wait_ready(60)
        assert address.startswith("127.0.0.1:") and local.running
        with DeblurClient(address) as client:
            assert client.health() == "SERVING"
            assert client.info().engine("classical") is not None
        pid = local.pid
    finally:
        local.stop()
    assert not local.running and local.address is None
    assert gone(pid)


def test_a_server_that_cannot_start_says_why():
    local = LocalServer(extra_args=("--engine", "no-such-engine"))
    local.start()
    try:
        with pytest.raises(Unavailable, match="no-such-engine"):
            local.wait_ready(60)
    finally:
        local.stop()


APP = textwrap.dedent("""
    import os, signal, sys
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication
    from desktop_gui.app import main
    from desktop_gui.qt_main_window import QtMainWindow

    def check():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, QtMainWindow)]
        local = windows[0].server_panel.local_server if windows else None
        if windows and windows[0].last_message is not None:
            sys.exit(f"error: {windows[0].last_message}")
        if local is None or local.address is None:
            QTimer.singleShot(50, check)
            return
        print(local.pid, flush=True)
        if sys.argv[1] == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        windows[0].close()

    qapp = QApplication(sys.argv[:1])
    QTimer.singleShot(50, check)
    sys.exit(main(start_server=True))
""")


@pytest.mark.parametrize("ending", ["quit", "crash"])
def test_owned_server_is_gone_after_the_app(ending):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = subprocess.Popen([sys.executable, "-c", APP, ending], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=env)
    try:
        out, err = app.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        app.kill()
        out, err = app.communicate()
    assert out.strip().isdigit(), f"no server pid; the app said:\n{out}\n{err}"
    pid = int(out)
    assert app.returncode == (-signal.SIGKILL if ending == "crash" else 0), err
    assert gone(pid), f"server {pid} outlived the app ({ending})"
