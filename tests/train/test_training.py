"""Training end to end on the tiny model: `osdd data synth` makes pairs from the test
photos, `osdd train evae` and `osdd train synthetic|real` learn from them, the exports
load in the server, and a resumed run repeats an uninterrupted one exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from backend.cli import main  # noqa: E402
from tests.conftest import sample_photo  # noqa: E402

# Small and fast: 64-px pairs, so every step sees whole images (only flips vary) and the
# loss curve is not drowned in crop noise.
FAST = ["--crop", "64", "--batch", "2", "--workers", "0", "--warmup", "0",
        "--mixed-precision", "no", "--val-count", "4"]


def _log(run: Path) -> tuple[list[dict], list[dict]]:
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    return [x for x in lines if "step" in x], [x for x in lines if "val_step" in x]


def _train(stage: str, base: Path, data: Path, out: Path, *extra: str) -> int:
    return main(["train", stage, "--base", str(base), "--data", f"paired:{data}",
                 "--out", str(out), *FAST, *extra])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    from backend.engine.osdd.building import make_model

    folder = tmp_path_factory.mktemp("train") / "tiny"
    make_model(folder, "tiny", seed=0, adapters=())  # a base model: no adapters yet
    return folder


@pytest.fixture(scope="module")
def pairs(bench_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train") / "pairs"
    assert main(["data", "synth", "--sharp", str(bench_folder), "--out", str(out),
                 "--count", "6", "--seed", "3", "--crop", "64"]) == 0
    return out


@pytest.fixture(scope="module")
def evae_run(tiny, pairs, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("train") / "evae"
    assert _train("evae", tiny, pairs, run, "--steps", "30", "--lr", "3e-2",
                  "--val-every", "15", "--save-every", "15") == 0
    return run


@pytest.fixture(scope="module")
def synthetic_run(evae_run, pairs, tmp_path_factory) -> Path:
    # MSE only: on a random tiny UNet the adapter's effect is small, and EA-DISTS and the
    # adversarial term would hide it (the resume test runs every loss).
    run = tmp_path_factory.mktemp("train") / "synthetic"
    assert _train("synthetic", evae_run / "export", pairs, run, "--steps", "30",
                  "--lr", "3e-2", "--rank", "4", "--val-every", "15", "--save-every", "15",
                  "--ea-dists-weight", "0", "--gan-weight", "0") == 0
    return run


def _same_tensors(a: Path, b: Path) -> None:
    """Same tensor names and values (the header's metadata lists LoRA targets in set
    order, which differs between processes)."""
    from safetensors.torch import load_file

    first, second = load_file(a), load_file(b)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def _falls(steps: list[dict]) -> bool:
    losses = [s["loss"] for s in steps]
    return np.mean(losses[-6:]) < np.mean(losses[:6])


def test_evae_stage_learns_and_exports_a_loadable_model(evae_run, tiny):
    from backend.engine.osdd.loading import verify_folder

    steps, vals = _log(evae_run)
    assert [s["step"] for s in steps] == list(range(1, 31))
    assert _falls(steps) and all(s["ea_dists"] > 0 for s in steps)
    assert [v["val_step"] for v in vals] == [0, 15, 30]
    assert vals[-1]["val_psnr"] > vals[0]["val_psnr"] + 0.5
    assert verify_folder(evae_run / "export") == []
    assert list((evae_run / "tb").rglob("events.out.tfevents.*"))  # TensorBoard's logs
    trained = (evae_run / "export" / "evae_skips.safetensors").read_bytes()
    assert trained != (tiny / "evae_skips.safetensors").read_bytes()


def test_adapter_stage_learns_and_the_server_serves_it(synthetic_run, evae_run, tiny,
                                                       start_server):
    from backend.engine.osdd.engine import OsddEngine
    from backend.engine.osdd.loading import verify_folder

    steps, vals = _log(synthetic_run)
    assert _falls(steps)
    assert vals[-1]["val_psnr"] > vals[0]["val_psnr"] + 0.05
    export = synthetic_run / "export"
    assert verify_folder(export) == []
    assert (export / "lora_synthetic.safetensors").is_file()
    photo = np.round(sample_photo("chelsea")[:96, :128] * 255).astype(np.uint8)

    def deblur(folder: Path) -> np.ndarray:
        client = start_server([OsddEngine(folder, device="cpu", dtype="fp32")]).client
        return client.deblur_image(photo, engine="osdd").astype(float)

    trained, untrained = deblur(export), deblur(evae_run / "export")
    assert np.abs(trained - untrained).mean() > 1.0
    sharp_error = np.abs(trained - photo).mean()
    assert sharp_error < np.abs(deblur(tiny) - photo).mean()


def test_real_adapter_on_top_gives_a_model_with_both_adapters(synthetic_run, pairs,
                                                              tmp_path):
    from backend.engine.osdd.loading import load_pipeline

    run = tmp_path / "real"
    assert _train("real", synthetic_run / "export", pairs, run, "--steps", "2",
                  "--rank", "4", "--gan-weight", "0", "--ea-dists-weight", "0") == 0
    pipe = load_pipeline(run / "export")
    assert pipe.adapters.gamma_range == (0.0, 1.0)


def test_resume_repeats_an_uninterrupted_run(evae_run, pairs, tmp_path):
    base = evae_run / "export"
    common = ("--steps", "6", "--lr", "1e-3", "--rank", "4", "--save-every", "3",
              "--val-every", "100")
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert _train("synthetic", base, pairs, whole, *common) == 0
    assert _train("synthetic", base, pairs, parts, *common, "--stop-after", "3") == 0
    assert not (parts / "export").exists()
    assert main(["train", "synthetic", "--out", str(parts), "--resume"]) == 0
    losses = [[(s["loss"], s["ea_dists"], s["gan"], s["disc"]) for s in _log(run)[0]]
              for run in (whole, parts)]
    assert len(losses[0]) == 6 and losses[0] == losses[1]
    assert np.isfinite(losses[0]).all()
    _same_tensors(whole / "export" / "lora_synthetic.safetensors",
                  parts / "export" / "lora_synthetic.safetensors")


def test_checkpoints_hold_no_pickles_and_export_again(synthetic_run, tmp_path):
    from backend.engine.osdd.loading import verify_folder

    files = [p for p in (synthetic_run / "checkpoints").rglob("*") if p.is_file()]
    assert files and {p.suffix for p in files} == {".safetensors", ".json"}
    out = tmp_path / "again"
    assert main(["train", "export", str(synthetic_run), "--out", str(out)]) == 0
    assert verify_folder(out) == []
    _same_tensors(out / "lora_synthetic.safetensors",
                  synthetic_run / "export" / "lora_synthetic.safetensors")


def test_bad_runs_are_refused_clearly(evae_run, pairs, tiny, tmp_path, capsys, monkeypatch):
    assert _train("evae", tiny, pairs, evae_run) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["train", "evae", "--out", str(evae_run), "--resume", "--lr", "0.5"]) == 1
    assert "lr: 0.03 -> 0.5" in capsys.readouterr().err
    assert main(["train", "evae", "--out", str(tmp_path / "none"), "--resume"]) == 1
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["train", "evae", "--out", str(tmp_path / "x"), "--data", "paired:x"]) == 1
    assert "--base" in capsys.readouterr().err
    assert _train("evae", tiny, tmp_path / "missing", tmp_path / "y") == 1
    assert "missing" in capsys.readouterr().err
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "accelerate" else real_find_spec(name))
    assert _train("evae", tiny, pairs, tmp_path / "z") == 1
    assert "training needs accelerate" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()


def test_decoder_lora_is_folded_into_the_exported_vae(tiny, pairs, tmp_path):
    from safetensors.torch import load_file

    from backend.engine.osdd.loading import verify_folder

    run = tmp_path / "evae-lora"
    assert _train("evae", tiny, pairs, run, "--steps", "3", "--lr", "1e-2",
                  "--decoder-rank", "2", "--ea-dists-weight", "0") == 0
    export = run / "export"
    assert verify_folder(export) == []
    name = "vae/diffusion_pytorch_model.safetensors"
    trained, base = load_file(export / name), load_file(tiny / name)
    assert trained.keys() == base.keys()  # plain VAE weights: the engine loads them as is
    changed = [k for k in base if not torch.equal(trained[k], base[k])]
    assert changed and all(k.startswith("decoder.") for k in changed)


@pytest.mark.slow
def test_accelerate_launch_trains_on_two_processes(evae_run, pairs, tmp_path):
    """The README's scale-out command, with two CPU processes standing in for two GPUs."""
    import subprocess
    import sys

    from backend.engine.osdd.loading import verify_folder

    run = tmp_path / "two"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu",
               "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
               "--dynamo_backend", "no", "-m", "backend.cli", "train", "synthetic",
               "--base", str(evae_run / "export"), "--data", f"paired:{pairs}",
               "--out", str(run), *FAST, "--batch", "1", "--steps", "4", "--rank", "4",
               "--save-every", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    steps, _ = _log(run)
    assert [s["step"] for s in steps] == [1, 2, 3, 4]  # one line per step, not per process
    assert verify_folder(run / "export") == []


def test_gradient_checkpointing_and_bf16_train_the_same_model(evae_run, pairs, tmp_path):
    """Checkpointing only trades memory for time: same losses (so same gradients); bf16
    autocast gives the same losses to bf16 precision."""
    runs = {}
    for name, extra in (("plain", ()), ("checkpointed", ("--gradient-checkpointing",)),
                        ("bf16", ("--mixed-precision", "bf16"))):
        run = tmp_path / name
        args = [a for a in FAST if a not in ("--mixed-precision", "no")] + list(extra)
        if "--mixed-precision" not in extra:
            args += ["--mixed-precision", "no"]
        assert main(["train", "synthetic", "--base", str(evae_run / "export"), "--data",
                     f"paired:{pairs}", "--out", str(run), *args, "--steps", "2",
                     "--rank", "4"]) == 0
        runs[name] = [(s["mse"], s["ea_dists"], s["gan"]) for s in _log(run)[0]]
    assert runs["checkpointed"] == runs["plain"]
    assert np.allclose(runs["bf16"], runs["plain"], rtol=2e-2)
    assert runs["bf16"] != runs["plain"]  # it really ran in bf16


def test_train_step_benchmark_measures_both_stages(tiny, pairs):
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "train_step.py"
    done = subprocess.run([sys.executable, str(script), "--weights", str(tiny), "--crop",
                           "64", "--steps", "1", "--data", f"paired:{pairs}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["stage"])
    titles = lines[header].split()
    rows = {cells[0]: cells for cells in map(str.split, lines[header + 1:]) if cells}
    assert set(rows) == {"evae", "synthetic"}, done.stdout
    for cells in rows.values():
        assert len(cells) == len(titles), done.stdout  # a failed stage prints its error
        row = dict(zip(titles, cells, strict=True))
        assert float(row["s/step"]) > 0 and float(row["TFLOP/sample"]) > 0, done.stdout


def test_ctrl_c_keeps_the_finished_steps(evae_run, pairs, tmp_path, monkeypatch):
    from backend.train import loop

    validate = loop.Trainer.validate

    def interrupted(self):
        if self.step == 2:
            raise KeyboardInterrupt
        validate(self)

    monkeypatch.setattr(loop.Trainer, "validate", interrupted)
    run = tmp_path / "stopped"
    args = ("--steps", "4", "--rank", "4", "--val-every", "2", "--save-every", "100",
            "--gan-weight", "0", "--ea-dists-weight", "0")
    assert _train("synthetic", evae_run / "export", pairs, run, *args) == 130
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-00000002"]
    monkeypatch.setattr(loop.Trainer, "validate", validate)
    assert main(["train", "synthetic", "--out", str(run), "--resume"]) == 0
    assert [s["step"] for s in _log(run)[0]] == [1, 2, 3, 4]
    assert (run / "export" / "lora_synthetic.safetensors").is_file()
