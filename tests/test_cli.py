"""The `osdd` command as a user runs it, against a real server."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.cli import main
from backend.images import read_image, write_image


@pytest.fixture
def photo(tmp_path):
    image = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(image).save(path)
    return path, image


def test_deblur_writes_the_result_and_a_comparison(server, photo, tmp_path, capsys):
    path, image = photo
    out, compare = tmp_path / "sharp.png", tmp_path / "compare.png"
    assert main(["deblur", str(path), "-o", str(out), "--compare", str(compare),
                 "--server", server.address, "--param", "gamma=0.5"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out)), 255 - image)
    assert Image.open(compare).size == (2 * 60 + 8, 40)
    assert "done: invert" in capsys.readouterr().err


def test_deblur_region_changes_only_the_region(server, photo, tmp_path):
    path, image = photo
    out = tmp_path / "sharp.png"
    assert main(["deblur", str(path), "-o", str(out), "--region", "10,5,20,10",
                 "--server", server.address]) == 0
    expected = image.copy()
    expected[5:15, 10:30] = 255 - image[5:15, 10:30]
    np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)


def test_sixteen_bit_tiff_keeps_its_depth(server, tmp_path):
    image = np.random.default_rng(4).integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    src, out = tmp_path / "deep.tif", tmp_path / "deep_sharp.tif"
    write_image(src, image)
    assert main(["deblur", str(src), "-o", str(out), "--server", server.address]) == 0
    result = read_image(out)
    assert result.dtype == np.uint16
    np.testing.assert_array_equal(result, 65535 - image)


@pytest.mark.parametrize("args,message", [
    (["missing.png"], "no such image file"),
    (["PHOTO", "--param", "gamma"], "--param must look like name=number"),
    (["PHOTO", "--param", "gamma=2"], "'gamma' must be in [0, 1]"),
    (["PHOTO", "--region", "1,2,3"], "region must be x,y,width,height"),
    (["PHOTO", "--region", "1,2,0,5"], "must be positive"),
    (["PHOTO", "--region", "500,500,10,10"], "does not overlap"),
])
def test_bad_input_is_reported_and_nothing_is_written(server, photo, tmp_path, capsys,
                                                      args, message):
    path, _ = photo
    out = tmp_path / "sharp.png"
    args = [str(path) if a == "PHOTO" else str(tmp_path / a) if a.endswith(".png") else a
            for a in args]
    assert main(["deblur", *args, "-o", str(out), "--server", server.address]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_unreachable_server_gives_a_clear_error(photo, tmp_path, capsys):
    path, _ = photo
    assert main(["deblur", str(path), "-o", str(tmp_path / "x.png"), "--server",
                 "127.0.0.1:1", "--timeout", "5"]) == 1
    assert "cannot reach the server" in capsys.readouterr().err


def test_output_into_a_missing_folder_fails_cleanly(server, photo, tmp_path, capsys):
    path, _ = photo
    assert main(["deblur", str(path), "-o", str(tmp_path / "nope" / "x.png"), "--server",
                 server.address]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_info_prints_engines_parameters_and_limits(server, capsys):
    assert main(["info", "--server", server.address]) == 0
    out = capsys.readouterr().out
    assert "engine invert" in out and "gamma" in out and "SERVING" in out
    assert "100000000 pixels per job" in out


def test_demo_deblurs_the_bundled_photo(tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    before = read_image(tmp_path / "clock_motion_before_after.png")
    result = read_image(tmp_path / "clock_motion_deblurred.png")
    assert result.shape == (300, 400, 1)
    assert before.shape == (300, 808, 3)
    from backend.cli.serve import SAMPLE

    original = read_image(SAMPLE)
    assert np.abs(result.astype(int) - original.astype(int)).mean() > 0.5


def test_missing_tls_certificate_is_a_clear_error(photo, tmp_path, capsys):
    path, _ = photo
    assert main(["info", "--server", "127.0.0.1:1", "--tls-ca", str(tmp_path / "ca.pem")]) == 1
    assert "cannot read the TLS root certificate" in capsys.readouterr().err


def test_deblur_keeps_the_icc_profile_and_exif(server, tmp_path):
    from .conftest import srgb_icc_profile

    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    source, out = tmp_path / "in.jpg", tmp_path / "out.jpg"
    Image.new("RGB", (48, 32), "gray").save(source, exif=exif, icc_profile=srgb_icc_profile())
    assert main(["deblur", str(source), "-o", str(out), "--server", server.address]) == 0
    written = Image.open(out)
    assert written.info.get("icc_profile") == srgb_icc_profile()
    assert written.getexif()[0x010F] == "TestCam"


def test_a_folder_as_input_says_so(server, tmp_path, capsys):
    assert main(["deblur", str(tmp_path), "-o", str(tmp_path / "x.png"), "--server",
                 server.address]) == 1
    assert "is a folder, not an image file" in capsys.readouterr().err


def test_a_queued_job_shows_its_position():
    import io

    from backend.progress_bar import ProgressBar
    from backend.types import Accepted

    stream = io.StringIO()
    ProgressBar(stream)(Accepted("job", 2))
    assert "queued, position 2" in stream.getvalue()


def test_a_deadline_is_explained_not_quoted_from_grpc(start_server, capsys, photo, tmp_path):
    from tests.conftest import InvertEngine

    running = start_server([InvertEngine(tile_delay=0.5)])
    path, _ = photo
    assert main(["deblur", str(path), "-o", str(tmp_path / "x.png"), "--timeout", "0.3",
                 "--param", "tile_size=16", "--server", running.address]) == 1
    err = capsys.readouterr().err
    assert "time the client allowed" in err and "Deadline Exceeded" not in err
    assert not (tmp_path / "x.png").exists()


def test_sigterm_during_the_write_leaves_no_partial_file(server, photo, tmp_path,
                                                         monkeypatch):
    import os
    import signal
    import time

    import backend.images as images

    real_write = images._write

    def write_then_get_terminated(tmp, *args):
        real_write(tmp, *args)  # the temporary file exists now
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this

    monkeypatch.setattr(images, "_write", write_then_get_terminated)
    path, _ = photo
    out = tmp_path / "out" / "x.png"
    out.parent.mkdir()
    assert main(["deblur", str(path), "-o", str(out), "--server", server.address]) == 130
    assert list(out.parent.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored afterwards


def test_info_into_a_closed_pipe_is_quiet(server):
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "backend.cli", "info", "--server",
                                server.address], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()  # as `| head` does once it has what it wants
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_the_desktop_app_takes_the_same_connection_options(monkeypatch):
    from backend.cli import build_parser
    from backend.rpc.arguments import connection_from
    from backend.rpc.client import ConnectionSettings

    monkeypatch.delenv("OSDD_SERVER", raising=False)
    args = build_parser().parse_args(["gui", "--server", "box:1", "--token", "t", "--tls-ca",
                                      "ca.pem"])
    assert connection_from(args) == ConnectionSettings("box:1", "t", Path("ca.pem"))
