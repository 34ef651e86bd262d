"""`osdd batch IN_DIR OUT_DIR` as a user runs it: the folder tree kept, finished files
skipped, resumable after Ctrl-C, failures summarised, files spread over servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from backend.cli import main
from backend.images import read_image, write_image

from .conftest import ROOT, InvertEngine


def image(seed: int, height: int = 40, width: int = 60) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture
def tree(tmp_path) -> Path:
    """in/a.png, in/trip/b.png and in/trip/day2/c.png, plus a file that is no image."""
    source = tmp_path / "in"
    for index, name in enumerate(["a.png", "trip/b.png", "trip/day2/c.png"]):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        write_image(source / name, image(index))
    (source / "trip" / "notes.txt").write_text("not an image")
    return source


def outputs(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_batch_keeps_the_tree_and_then_skips_what_is_done(server, tree, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["batch", str(tree), str(out), "--server", server.address]) == 0
    assert outputs(out) == ["a.png", "trip/b.png", "trip/day2/c.png"]
    for name in outputs(out):
        np.testing.assert_array_equal(read_image(out / name), 255 - read_image(tree / name))
    assert "3 done" in capsys.readouterr().err
    (engine,) = server.server.jobs.service.engines.values()
    tiles = engine.tiles_run
    assert main(["batch", str(tree), str(out), "--server", server.address]) == 0
    assert engine.tiles_run == tiles  # nothing deblurred again
    assert "3 skipped" in capsys.readouterr().err
    assert main(["batch", str(tree), str(out), "--server", server.address, "--redo"]) == 0
    assert engine.tiles_run == 2 * tiles


def test_a_broken_file_fails_alone_and_is_named(server, tree, tmp_path, capsys):
    (tree / "trip" / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    assert main(["batch", str(tree), str(out), "--server", server.address]) == 1
    err = capsys.readouterr().err
    assert "3 done, 1 failed" in err and "broken.png: cannot read" in err
    assert outputs(out) == ["a.png", "trip/b.png", "trip/day2/c.png"]


def test_files_are_spread_over_every_server_given(start_server, tree, tmp_path):
    engines = [InvertEngine(tile_delay=0.05), InvertEngine(tile_delay=0.05)]
    first, second = (start_server([engine]) for engine in engines)
    for index in range(3):
        write_image(tree / f"more{index}.png", image(10 + index))
    out = tmp_path / "out"
    assert main(["batch", str(tree), str(out), "--server",
                 f"{first.address},{second.address}"]) == 0
    assert len(outputs(out)) == 6
    assert all(engine.tiles_run > 0 for engine in engines)


def test_bad_folders_are_refused_before_any_work(server, tree, tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nowhere"), str(tmp_path / "out"),
                 "--server", server.address]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["batch", str(tree), str(tree), "--server", server.address]) == 1
    assert "choose another output folder" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(start_server, tmp_path):
    engine = InvertEngine(tile_delay=0.3)
    running = start_server([engine])
    list(running.client.deblur(image(9, 96, 96), engine="invert"))
    per_file = engine.tiles_run
    source, out = tmp_path / "in", tmp_path / "out"
    source.mkdir()
    for index in range(4):
        write_image(source / f"p{index}.png", image(index, 96, 96))
    command = [sys.executable, "-m", "backend.cli", "batch", str(source), str(out),
               "--server", running.address]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # As a terminal starts it: a shell running the tests in the background hands its
    # children SIGINT ignored, and Python keeps a signal it finds ignored.
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not (out.is_dir() and any(out.glob("p*.png"))):
        assert time.monotonic() < deadline and process.poll() is None, "no file finished"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "run the same command again to resume" in err
    finished = outputs(out)
    assert 1 <= len(finished) < 4 and all(not name.startswith(".") for name in finished)
    deadline = time.monotonic() + 10
    while running.server.jobs.busy:  # the cancelled job may still end its last batch
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = engine.tiles_run
    assert main(command[3:]) == 0
    assert outputs(out) == [f"p{index}.png" for index in range(4)]
    # Only the files left were deblurred.
    assert engine.tiles_run - before == (4 - len(finished)) * per_file
