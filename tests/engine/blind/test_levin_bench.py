"""benchmarks/levin_bench.py end to end on a folder laid out like the Levin benchmark, made
here from synthetic scenes (the real benchmark is research data the project does not ship)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from backend.train.data.protocol import protocol_blur

from ._helpers import shapes_photo

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "levin_bench.py"


def save(path: Path, grey: np.ndarray) -> None:
    Image.fromarray(np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)).save(path)


def make_folder(root: Path) -> np.ndarray:
    """im1.png blurred by kernel1 (stored as is) and kernel2 (stored turned 180 degrees, as
    some of the benchmark's are). Returns kernel2 the way it really blurred."""
    sharp = shapes_photo(160, seed=7)
    save(root / "im1.png", sharp)
    k1 = np.zeros((11, 11), np.float32)
    k1[5, 2:9] = 1
    k2 = np.zeros((11, 11), np.float32)
    k2[2:6, 5] = 1
    k2[5, 5:10] = 1
    k1, k2 = k1 / k1.sum(), k2 / k2.sum()
    for j, (k, stored) in enumerate([(k1, k1), (k2, k2[::-1, ::-1])], start=1):
        save(root / f"kernel{j}.png", stored / stored.max())
        save(root / f"im1_kernel{j}_img.png", protocol_blur(sharp, k, seed=j, noise=0.002))
    return k2


def test_orientation_follows_the_data(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import levin_bench
    finally:
        sys.path.remove(str(SCRIPT.parent))
    true_k2 = make_folder(tmp_path)
    k2 = levin_bench.oriented_kernel(tmp_path, 2, [1])
    np.testing.assert_allclose(k2, true_k2, atol=0.01)


def test_script_scores_every_photo_and_the_mean(tmp_path: Path) -> None:
    make_folder(tmp_path)
    run = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path),
                          "--images", "1", "--kernels", "1,2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len([line for line in lines if line.startswith("im1_kernel")]) == 2
    mean = next(line for line in lines if line.startswith("mean")).split()
    blurred, blind = float(mean[1]), float(mean[3])
    assert blind > blurred  # the engine sharpens these photos, and the scorer sees it
    assert "error ratio <= 2" in run.stdout


def test_missing_data_says_what_to_pass(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "--data must be the Levin benchmark folder" in run.stderr
