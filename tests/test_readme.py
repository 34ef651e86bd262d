"""The README's promises: its Python example runs as printed, its commands are real."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SAMPLE = ROOT / "backend" / "samples" / "clock_motion.png"


def test_python_example_runs_against_a_live_server(start_server, tmp_path):
    from backend.engine.classical import ClassicalEngine

    running = start_server([ClassicalEngine()])
    code = re.search(r"<!-- example: client.*?-->\s*```python\n(.*?)```", README, re.S)[1]
    code = code.replace("127.0.0.1:50051", running.address)
    shutil.copy(SAMPLE, tmp_path / "photo.png")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    sharp = np.asarray(Image.open(tmp_path / "sharp.png"))
    assert sharp.shape == np.asarray(Image.open(SAMPLE)).shape
    assert "classical on cpu" in done.stdout and "1/1 tiles" in done.stdout


def test_first_lines_give_the_two_setup_commands():
    commands = [line.strip() for line in README.splitlines()[:12] if line.startswith("    ")]
    assert commands[0].endswith("osdd demo") and "pip install" in commands[0]
    assert commands[1] == "bash scripts/test.sh"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
