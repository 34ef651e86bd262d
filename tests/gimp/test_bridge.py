"""`osdd bridge` in-process: frames in, frames out, against a real server."""

import os
import sys
import threading
import time

import numpy as np
import pytest

from backend.gimp.bridge import Bridge
from osdd_framing import read_frame, write_frame
from tests.conftest import InvertEngine


class Session:
    """A Bridge on a thread, with the plug-in's ends of its pipes."""

    def __init__(self, **kw) -> None:
        r_in, self._w_in = os.pipe()
        self._r_out, w_out = os.pipe()
        self.to_bridge = os.fdopen(self._w_in, "wb")
        self.from_bridge = os.fdopen(self._r_out, "rb")
        self.bridge = Bridge(os.fdopen(r_in, "rb"), os.fdopen(w_out, "wb"), **kw)
        self.result = []
        self.thread = threading.Thread(target=lambda: self.result.append(self.bridge.run()))
        self.thread.start()

    def send(self, header, payload=b"") -> None:
        write_frame(self.to_bridge, header, payload)

    def replies(self):
        while (frame := read_frame(self.from_bridge)) is not None:
            yield frame
            if frame[0]["type"] in ("info", "done", "error"):
                return

    def close(self) -> None:
        self.to_bridge.close()
        self.thread.join(10)
        self.bridge.out.close()
        self.from_bridge.close()


@pytest.fixture
def session():
    made = []

    def make(**kw):
        made.append(Session(**kw))
        return made[-1]

    yield make
    for s in made:
        if not s.to_bridge.closed:
            s.close()


def _deblur_header(address, image, keep):
    h, w, c = image.shape
    return {"type": "deblur", "server": address, "engine": "auto", "params": {}, "width": w,
            "height": h, "channels": c, "dtype": "u16", "keep": keep}


def test_info_then_deblur_sends_only_the_kept_part(server, session):
    s = session()
    s.send({"type": "info", "server": server.address})
    [(info, _)] = list(s.replies())
    assert info["default_engine"] == "invert"
    assert [p["name"] for p in info["engines"][0]["params"]][0] == "gamma"
    image = np.random.default_rng(0).integers(0, 65536, (70, 90, 3), dtype=np.uint16)
    s.send(_deblur_header(server.address, image, [10, 5, 60, 50]), image.tobytes())
    out = np.zeros_like(image)
    kinds = []
    for header, data in s.replies():
        kinds.append(header["type"])
        if header["type"] == "tile":
            x, y, w, h = header["x"], header["y"], header["width"], header["height"]
            assert 10 <= x and x + w <= 70 and 5 <= y and y + h <= 55
            out[y:y + h, x:x + w] = np.frombuffer(data, np.uint16).reshape(h, w, 3)
    assert kinds[0] == "accepted" and kinds[-1] == "done" and "tile" in kinds
    assert np.array_equal(out[5:55, 10:70], 65535 - image[5:55, 10:70])
    assert not out[:5].any() and not out[:, :10].any()
    s.close()
    assert s.result == [0]


def test_bad_requests_get_error_frames_and_the_bridge_goes_on(server, session):
    s = session()
    image = np.zeros((8, 8, 3), np.uint16)
    s.send(_deblur_header(server.address, image, None), b"\0" * 10)
    [(error, _)] = list(s.replies())
    assert error["error"] == "InvalidRequest" and "sent 10 bytes" in error["message"]
    s.send({"type": "dance"})
    assert list(s.replies())[0][0]["message"] == "unknown bridge request 'dance'"
    s.send({"type": "info", "server": server.address, "sever": "typo"})
    [(error, _)] = list(s.replies())
    assert error["error"] == "InvalidRequest" and "no field 'sever'" in error["message"]
    s.send({"type": "info", "server": server.address})
    assert list(s.replies())[0][0]["type"] == "info"


def test_a_bad_seed_is_refused_before_any_server_is_reached(session):
    # Nothing listens on port 1: the seed's error must come first, not "no osdd server".
    s = session()
    image = np.zeros((8, 8, 3), np.uint16)
    s.send({**_deblur_header("127.0.0.1:1", image, None), "seed": -3}, image.tobytes())
    [(error, _)] = list(s.replies())
    assert error["error"] == "InvalidRequest" and "seed must be a whole number" in error["message"]


def test_plug_in_going_away_cancels_the_server_job(start_server, session):
    engine = InvertEngine(tile_delay=0.2)
    running = start_server([engine])
    s = session()
    image = np.zeros((256, 256, 3), np.uint16)
    s.send(_deblur_header(running.address, image, None), image.tobytes())
    for header, _ in s.replies():
        if header["type"] == "progress" and header["done"] >= 1:
            break
    s.to_bridge.close()  # GIMP kills a plug-in whose progress is cancelled
    s.thread.join(10)
    assert not s.thread.is_alive()
    done_at_close = engine.tiles_run
    time.sleep(1.0)
    assert engine.tiles_run <= done_at_close + 2  # stopped within a batch
    assert engine.tiles_run < 64
    assert running.client.deblur_image(np.zeros((8, 8), np.uint8)).shape == (8, 8)


def test_autostart_starts_a_local_server_that_outlives_the_bridge(session, tmp_path,
                                                                  unused_address):
    pid_file = tmp_path / "server.pid"
    # sh records its pid and execs the server in place, so the pid is the server's
    serve = ["sh", "-c", f'echo $$ > {pid_file}; exec "$0" "$@"', sys.executable, "-m",
             "backend.cli", "serve", "--engine", "classical"]
    s = session(serve_command=serve, start_timeout=60)
    address = unused_address
    try:
        s.send({"type": "info", "server": address, "autostart": True})
        replies = list(s.replies())
        assert "starting a local server" in replies[0][0]["message"]
        assert replies[-1][0]["type"] == "info"
        assert replies[-1][0]["default_engine"] == "classical"
        s.close()
        os.kill(int(pid_file.read_text()), 0)  # still running after the bridge ended
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), 15)


def test_autostart_only_for_local_addresses(session):
    s = session()
    s.send({"type": "info", "server": "192.0.2.1:50051", "autostart": True})
    [(error, _)] = list(s.replies())
    assert error["error"] == "ConfigError" and "only start a local server" in error["message"]


def test_token_comes_from_the_environment_for_protected_servers(start_server, session,
                                                               monkeypatch):
    running = start_server(token="s3cret")
    s = session()
    s.send({"type": "info", "server": running.address})
    [(error, _)] = list(s.replies())
    assert error["error"] == "Unauthenticated"
    monkeypatch.setenv("OSDD_TOKEN", "s3cret")
    s.send({"type": "info", "server": running.address})
    assert list(s.replies())[0][0]["type"] == "info"
