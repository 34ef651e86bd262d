"""`osdd serve` as a process: logs what it does, serves, and stops cleanly on SIGTERM."""

import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from backend.rpc.client import DeblurClient


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_logs_serves_and_exits_cleanly_on_signal(sig):
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", "0",
                             "--grace", "5"], stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            lines.append(proc.stderr.readline())
            match = re.search(r"listening on (\S+) \(Ctrl-C", lines[-1])
            if match:
                break
        assert match, "".join(lines)
        with DeblurClient(match[1]) as client:
            client.wait_until_serving(30)
            image = np.full((40, 50, 3), 128, np.uint8)
            assert client.deblur_image(image).shape == image.shape
        proc.send_signal(sig)
        out = proc.communicate(timeout=20)[1]
    finally:
        proc.kill()
    log = "".join(lines) + out
    assert proc.returncode == 0, log
    assert "listening on 127.0.0.1:" in log
    assert "engine classical ready" in log
    assert "job 50x40x3 u8 on classical" in log and "job done: classical" in log
    assert "shutting down" in log and "stopped" in log


def test_port_file_tells_the_chosen_port(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", "0",
                             "--port-file", str(port_file), "--log-level", "warning"])
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, "server exited early"
            time.sleep(0.05)
        address = port_file.read_text().strip()
        assert re.fullmatch(r"127\.0\.0\.1:\d+", address) and not address.endswith(":0")
        with DeblurClient(address) as client:
            client.wait_until_serving(30)
    finally:
        proc.terminate()
        proc.wait(20)
