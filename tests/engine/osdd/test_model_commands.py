"""`osdd models make-tiny / make-random / verify` and `osdd bench`, as a user runs them."""

import pytest

from backend.cli import main
from backend.engine.osdd import layout


def test_make_tiny_then_verify(tmp_path, capsys):
    folder = tmp_path / "tiny"
    assert main(["models", "make-tiny", str(folder)]) == 0
    assert "random-weight tiny model" in capsys.readouterr().out
    assert main(["models", "verify", str(folder)]) == 0
    assert capsys.readouterr().out.strip() == f"{folder}: OK"


def test_make_into_a_non_empty_folder_is_refused(tiny_weights, capsys):
    assert main(["models", "make-tiny", str(tiny_weights)]) == 1
    assert "is not empty" in capsys.readouterr().err


def test_verify_lists_every_problem(weights_copy, capsys):
    (weights_copy / "lora_synthetic.safetensors").unlink()
    skips = weights_copy / layout.EVAE_SKIPS
    skips.write_bytes(skips.read_bytes()[:-1] + b"\0")
    assert main(["models", "verify", str(weights_copy)]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert "lora_synthetic.safetensors: missing" in err
    assert "evae_skips.safetensors: sha256 differs" in err


def test_make_random_writes_the_full_layout(tmp_path):
    folder = tmp_path / "random"
    assert main(["models", "make-random", str(folder), "--arch", "tiny", "--seed", "3",
                 "--save-dtype", "bf16"]) == 0
    manifest = layout.read_manifest(folder)
    assert manifest.base == "random-tiny"
    from backend.engine.osdd.loading import verify_folder
    assert verify_folder(folder) == []


@pytest.mark.slow
def test_bench_prints_a_table_for_each_configuration(capsys):
    assert main(["bench", "--tile", "64", "--repeats", "1", "--dtypes", "fp32",
                 "--fuse", "fused,unfused", "--image", "96", "--flops"]) == 0
    out = capsys.readouterr().out
    assert "| fp32 fused |" in out and "| fp32 unfused |" in out
    assert "failed" not in out
    assert "FLOPs per 64 px tile" in out


def test_manifest_for_a_folder_put_together_by_hand(weights_copy, capsys):
    from .conftest import drop_files

    drop_files(weights_copy, "lora_synthetic.safetensors")  # a model with one adapter
    (weights_copy / layout.MANIFEST).unlink()
    assert main(["models", "manifest", str(weights_copy), "--timestep", "250"]) == 0
    assert f"{weights_copy}: OK" in capsys.readouterr().out
    manifest = layout.read_manifest(weights_copy)
    assert manifest.timestep == 250 and manifest.base == "by hand"
    (weights_copy / "vae/config.json").write_text("{}")
    assert main(["models", "manifest", str(weights_copy)]) == 1  # written, then checked
    assert "problem" in capsys.readouterr().err
