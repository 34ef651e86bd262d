"""The Qt-free state: Document, SettingsState, ServerConnection and the error messages."""

import subprocess
import sys

import numpy as np
import pytest

from backend import errors
from backend.images import read_image, write_image
from backend.types import EngineInfo, Limits, ParamSpec, Region, ServerInfo
from desktop_gui.connection import UNREACHABLE, ServerConnection, ServerStatus
from desktop_gui.document import Document
from desktop_gui.messages import describe
from desktop_gui.settings import SettingsState, param_controls


def doc(h=10, w=12):
    return Document(np.zeros((h, w, 3), np.uint8))


def test_apply_undo_redo_and_dirty():
    d = doc()
    seen = []
    d.changed.connect(seen.append)
    region = Region(2, 3, 4, 5)
    d.apply(region, np.full((5, 4, 3), 9, np.uint8))
    assert d.pixels[4, 3, 0] == 9 and d.pixels[0, 0, 0] == 0 and d.dirty and d.can_undo
    d.undo()
    assert not d.pixels.any() and not d.dirty and d.can_redo
    d.redo()
    assert d.pixels[4, 3, 0] == 9 and d.dirty
    assert seen == [region] * 3
    assert not d.original.any()


def test_apply_refuses_a_result_that_does_not_fit():
    d = doc()
    with pytest.raises(errors.InvalidRequest):
        d.apply(Region(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(errors.InvalidRequest):
        d.apply(Region(10, 0, 4, 4), np.zeros((4, 4, 3), np.uint8))
    assert not d.can_undo


def test_saving_marks_clean_and_an_undo_after_it_is_a_change(tmp_path):
    d = doc()
    d.apply(Region(0, 0, 2, 2), np.full((2, 2, 3), 5, np.uint8))
    with pytest.raises(errors.InvalidRequest, match="file name"):
        d.save()
    d.save(tmp_path / "x.png")
    assert not d.dirty and d.path == tmp_path / "x.png"
    np.testing.assert_array_equal(read_image(tmp_path / "x.png"), d.pixels)
    d.undo()
    assert d.dirty


def test_failed_save_keeps_the_old_file_and_the_dirty_flag(tmp_path):
    write_image(tmp_path / "x.png", np.full((10, 12, 3), 7, np.uint8))
    d = Document.open(tmp_path / "x.png")
    d.apply(Region(0, 0, 2, 2), np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(errors.InvalidRequest):
        d.save(tmp_path / "missing" / "x.png")
    assert d.dirty and d.path == tmp_path / "x.png"
    assert read_image(tmp_path / "x.png")[0, 0, 0] == 7


def test_selection_is_clipped_and_empty_means_none():
    d = doc()
    d.set_selection(Region(-5, -5, 10, 10))
    assert d.selection == Region(0, 0, 5, 5) and d.target() == Region(0, 0, 5, 5)
    d.set_selection(Region(50, 50, 3, 3))
    assert d.selection is None and d.target() == d.bounds


def info(*engines, default=None):
    return ServerInfo("0.1", engines, default or engines[0].name, "cpu", Limits())


GAMMA = ParamSpec("gamma", "float", 0.5, 0.0, 1.0, "")
SIZE = ParamSpec("kernel_size", "int", 31, 3, 99, "")


def test_settings_follow_the_server_and_clamp_values():
    s = SettingsState()
    s.set_info(info(EngineInfo("classical", "", "cpu", (SIZE,)),
                    EngineInfo("osdd", "", "cuda", (GAMMA,))))
    assert s.engine == "classical" and s.values == {"kernel_size": 31}
    s.set_value("kernel_size", 1000.4)
    assert s.values["kernel_size"] == 99
    tiles = ParamSpec("tile_size", "int", 512, 64, 2048, "", step=64)
    s.set_info(info(EngineInfo("classical", "", "cpu", (SIZE, tiles)),
                    EngineInfo("osdd", "", "cuda", (GAMMA,))))
    s.set_value("tile_size", 1000)  # only what the server takes: multiples of 64
    assert s.values["tile_size"] == 1024
    s.set_engine("osdd")
    assert s.values == {"gamma": 0.5}
    with pytest.raises(ValueError):
        s.set_value("kernel_size", 3)
    s.set_value("gamma", 0.8)
    s.set_info(info(EngineInfo("classical", "", "cpu", (SIZE,)),
                    EngineInfo("osdd", "", "cuda", (GAMMA,)), default="classical"))
    assert s.deblur_settings().engine == "osdd" and s.values == {"gamma": 0.8}
    s.set_info(info(EngineInfo("classical", "", "cpu", (SIZE,))))
    assert s.engine == "classical" and s.values == {"kernel_size": 31}
    with pytest.raises(ValueError):
        s.set_engine("osdd")


def test_gamma_of_osdd_reads_perception_at_0_and_fidelity_at_1():
    """As the engine defines it: gamma 1 is the real-blur (fidelity) adapter."""
    osdd = param_controls(EngineInfo("osdd", "", "cpu", (GAMMA,)))[0]
    other = param_controls(EngineInfo("other", "", "cpu", (GAMMA,)))[0]
    assert (osdd.low_label, osdd.high_label) == ("perception", "fidelity")
    assert (other.low_label, other.high_label) == ("0", "1")


@pytest.mark.parametrize("error,title", [
    (errors.Unavailable("no answer"), "Server unreachable"),
    (errors.InvalidRequest("bad region"), "Not accepted"),
    (errors.ResourceExhausted("out of memory"), "Out of memory or capacity"),
    (errors.Unauthenticated("no token"), "Access denied"),
    (errors.EngineUnavailable("no weights"), "Engine unavailable"),
])
def test_errors_become_messages_with_advice(error, title):
    message = describe(error)
    assert message.title == title and message.text.startswith(str(error))
    assert len(message.text) > len(str(error)) + 10


def test_unexpected_errors_are_logged_and_named(caplog):
    message = describe(ZeroDivisionError("oops"))
    assert message.title == "Unexpected error" and "ZeroDivisionError: oops" in message.text
    assert "unexpected error" in caplog.text


def test_connection_reports_unreachable_and_ignores_stale_answers():
    conn = ServerConnection("127.0.0.1:1")
    try:
        status = conn.probe(timeout=2)
        assert status.health == UNREACHABLE and status.error
        assert "not reachable" in status.describe()
        seen = []
        conn.status_changed.connect(seen.append)
        conn.connect("127.0.0.1:2")
        conn.set_status(status)  # the answer about the old address arrives late
        assert conn.status == ServerStatus("127.0.0.1:2", "UNKNOWN")
        assert [s.address for s in seen] == ["127.0.0.1:2"]
    finally:
        conn.close()


def test_connection_reports_engines_of_a_serving_server(server):
    conn = ServerConnection(server.address)
    try:
        status = conn.probe()
        assert status.serving and status.info.engine("invert") is not None
        assert "invert (cpu)" in status.describe()
    finally:
        conn.close()


def test_connection_keeps_token_and_tls_settings_across_addresses(start_server):
    from backend.rpc.client import ConnectionSettings

    running = start_server(token="s3cret")
    conn = ServerConnection(ConnectionSettings("127.0.0.1:1", token="s3cret"))
    try:
        conn.connect(running.address)  # the user types the real address
        assert conn.settings == ConnectionSettings(running.address, token="s3cret")
        status = conn.probe()
        assert status.serving and status.info is not None  # GetInfo needs the token
    finally:
        conn.close()


def test_the_cli_imports_qt_only_for_the_gui_command():
    code = "import sys, backend.cli; assert 'PyQt6' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
    done = subprocess.run([sys.executable, "-m", "desktop_gui", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--start-server" in done.stdout


def test_gui_without_pyqt6_says_which_extra_to_install():
    code = ("import sys; sys.modules['PyQt6'] = None\n"
            "from backend.cli import main; sys.exit(main(['gui']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1 and "needs PyQt6" in done.stderr
    assert "Traceback" not in done.stderr
