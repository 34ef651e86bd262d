"""`osdd eval` on hand-made pairs whose PSNR/SSIM are known, and on the bench protocol."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from backend.cli import main


def _save(path: Path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


@pytest.fixture
def hand_made(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A GoPro-layout test set of one pair: a grey ramp, and the same ramp with its left
    half 20 levels brighter (MSE known exactly)."""
    ramp = np.tile(np.linspace(40, 200, 96).astype(np.uint8), (80, 1))
    sharp = np.stack([ramp, ramp[::-1], np.full_like(ramp, 128)], axis=2)
    blur = sharp.copy()
    blur[:, :48] += 20
    root = tmp_path / "GOPRO"
    _save(root / "test" / "SEQ_1" / "sharp" / "000001.png", sharp)
    _save(root / "test" / "SEQ_1" / "blur" / "000001.png", blur)
    return root, blur, sharp


def _rows(path: Path) -> list[dict]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_eval_scores_a_hand_made_pair_exactly(hand_made, tmp_path, capsys):
    root, blur, sharp = hand_made
    out = tmp_path / "eval"
    method = "classical kernel_size=21,strength=0.8"  # a label with a comma in it
    assert main(["eval", "--data", f"gopro:{root}:test", "--method",
                 "classical:strength=0.8,kernel_size=21", "--metrics", "psnr,ssim",
                 "--out", str(out), "--figure", "1"]) == 0
    rows = _rows(out / "results.csv")
    assert [r["method"] for r in rows] == ["blurred input", method]
    # Half the pixels are off by 20/255 in every channel.
    expected_psnr = 10 * math.log10(1 / (0.5 * (20 / 255) ** 2))
    assert float(rows[0]["psnr"]) == pytest.approx(expected_psnr, abs=1e-3)
    expected_ssim = structural_similarity(sharp / 255.0, blur / 255.0, data_range=1,
                                          channel_axis=2)
    assert float(rows[0]["ssim"]) == pytest.approx(expected_ssim, abs=1e-4)
    assert rows[0]["image"] == "SEQ_1/000001"
    table = (out / "table.md").read_text()
    assert "| NAFNet (paper) |" in table and f"| {method} (ours) |" in table
    assert "GoPro PSNR" in table
    summary = _rows(out / "summary.csv")
    assert [(r["method"], r["images"]) for r in summary] == [("blurred input", "1"),
                                                             (method, "1")]
    assert float(summary[0]["psnr"]) == pytest.approx(expected_psnr, abs=1e-3)
    grid = Image.open(out / "grid_GoPro.png")
    assert grid.width > 3 * 80 and grid.height >= 80  # blurred, classical, sharp
    assert table in capsys.readouterr().out


def test_eval_runs_the_osdd_engine_at_two_gammas(hand_made, tmp_path):
    from backend.engine.osdd.building import make_model

    make_model(tmp_path / "tiny", "tiny", seed=0)
    root, _, _ = hand_made
    out = tmp_path / "eval"
    assert main(["eval", "--data", f"paired:{root}/test/SEQ_1/blur,{root}/test/SEQ_1/sharp",
                 "--weights", str(tmp_path / "tiny"), "--device", "cpu", "--dtype", "fp32",
                 "--method", "osdd:gamma=1", "--method", "osdd:gamma=0",
                 "--metrics", "psnr", "--out", str(out), "--figure", "0"]) == 0
    rows = _rows(out / "results.csv")
    assert [r["method"] for r in rows] == ["blurred input", "osdd g=1", "osdd g=0"]
    assert rows[1]["psnr"] != rows[2]["psnr"]
    assert not list(out.glob("grid_*.png"))


def test_bench_protocol_pairs_match_the_benchmark(bench_folder):
    from backend.train.data.protocol import protocol_blur
    from backend.train.data.spec import open_dataset

    pairs = open_dataset(f"bench:{bench_folder}")
    item = pairs[2]
    photo = sorted(bench_folder.glob("*.png"))[2]
    sharp = np.asarray(Image.open(photo).convert("RGB"), np.float32) / 255
    with np.load(bench_folder / "kernels.npz") as kernels:
        kernel = kernels[sorted(kernels.files)[2]].astype(np.float32)
    assert np.array_equal(item["blur"].numpy().transpose(1, 2, 0),
                          protocol_blur(sharp, kernel, 2002))
    assert len(pairs) == 5  # photo i with kernel i
    assert len(open_dataset(f"bench:{bench_folder}:full")) == 5 * 8  # every photo, every kernel


def test_eval_refuses_bad_requests_clearly(hand_made, tmp_path, capsys, monkeypatch):
    root, _, _ = hand_made
    base = ["eval", "--data", f"gopro:{root}:test", "--out", str(tmp_path / "e")]
    assert main([*base, "--metrics", "psnr,sharpness"]) == 1
    assert "unknown metric 'sharpness'" in capsys.readouterr().err
    assert main([*base, "--method", "osdd:gamma=high"]) == 1
    assert "NAME=NUMBER" in capsys.readouterr().err
    monkeypatch.setenv("OSDD_METRIC_WEIGHTS", str(tmp_path / "no-weights"))
    assert main([*base, "--metrics", "lpips"]) == 1
    err = capsys.readouterr().err
    assert "alexnet" in err.lower() and "convert_perceptual_weights" in err
    assert main([*base, "--metrics", "musiq"]) == 1
    assert "MUSIQ" in capsys.readouterr().err
