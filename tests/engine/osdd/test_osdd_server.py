"""The osdd engine end to end through the real gRPC server, on the tiny model."""

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from backend.engine.classical import ClassicalEngine
from backend.engine.osdd.engine import OsddEngine
from backend.errors import ConfigError, InvalidRequest

from .conftest import drop_files


def _engine(folder):
    return OsddEngine(folder, device="cpu", dtype="fp32")


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 65536, (150, 200, 3), dtype=np.uint16)
    alpha = rng.integers(0, 65536, (150, 200, 1), dtype=np.uint16)
    return np.concatenate([rgb, alpha], axis=2)


def test_deblur_keeps_size_alpha_depth_and_is_repeatable(start_server, tiny_weights, photo):
    client = start_server([_engine(tiny_weights)]).client
    params = {"tile_size": 128, "overlap": 32}
    first = client.deblur_image(photo, engine="osdd", params=params)
    assert first.shape == photo.shape and first.dtype == np.uint16
    assert np.array_equal(first[..., 3], photo[..., 3])
    assert not np.array_equal(first[..., :3], photo[..., :3])
    again = client.deblur_image(photo, engine="osdd", params=params)
    assert np.array_equal(again, first)
    other = client.deblur_image(photo, engine="osdd", params={**params, "gamma": 0.0})
    assert np.abs(other.astype(float) - first).mean() > 50


def test_grey_and_8_bit_images(start_server, tiny_weights):
    client = start_server([_engine(tiny_weights)]).client
    grey = np.random.default_rng(1).integers(0, 256, (70, 90), dtype=np.uint8)
    out = client.deblur_image(grey, engine="osdd")
    assert out.shape == grey.shape and out.dtype == np.uint8


def test_gamma_one_without_the_synthetic_adapter_is_the_same(start_server, tiny_weights,
                                                             weights_copy, photo):
    drop_files(weights_copy, "lora_synthetic.safetensors")
    full = start_server([_engine(tiny_weights)]).client
    real_only = start_server([_engine(weights_copy)]).client
    assert np.array_equal(real_only.deblur_image(photo, engine="osdd"),
                          full.deblur_image(photo, engine="osdd", params={"gamma": 1.0}))
    spec = {p.name: p for p in real_only.info().engine("osdd").params}["gamma"]
    assert (spec.minimum, spec.maximum, spec.default) == (1.0, 1.0, 1.0)


def test_info_lists_gamma_and_tiles_and_osdd_is_the_default(start_server, tiny_weights):
    client = start_server([_engine(tiny_weights), ClassicalEngine()]).client
    info = client.info()
    assert info.default_engine == "osdd"
    params = {p.name: p for p in info.engine("osdd").params}
    assert (params["gamma"].default, params["gamma"].minimum, params["gamma"].maximum) == (
        1.0, 0.0, 1.0)
    assert params["tile_size"].default == 512 and params["overlap"].default == 64


@pytest.mark.parametrize("params,message", [
    ({"gamma": 1.5}, "gamma"),
    ({"gamma": -0.1}, "gamma"),
    ({"tile_size": 100}, "multiple of 64"),
])
def test_bad_parameters_are_invalid_argument(start_server, tiny_weights, params, message):
    client = start_server([_engine(tiny_weights)]).client
    image = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(InvalidRequest, match=message):
        client.deblur_image(image, engine="osdd", params=params)
    assert client.deblur_image(image, engine="osdd").shape == image.shape


def test_bad_weights_folder_fails_when_the_engine_is_built(weights_copy, tmp_path):
    with pytest.raises(ConfigError, match="manifest.json is missing"):
        OsddEngine(tmp_path)
    (weights_copy / "lora_real.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ConfigError, match="lora_real.safetensors: 17 bytes"):
        OsddEngine(weights_copy)


def test_serve_with_a_bad_weights_folder_exits_with_a_clear_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--port", "0",
                           "--engine", "osdd", "--weights", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "osdd_manifest.json is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_not_serving_until_the_weights_are_loaded_and_warmed_up(start_server, tiny_weights):
    warming = threading.Event()
    release = threading.Event()

    class SlowWarmUp(OsddEngine):
        def _warm_up(self) -> None:
            warming.set()
            release.wait(10)
            super()._warm_up()

    engine = SlowWarmUp(tiny_weights, device="cpu", dtype="fp32")
    client = start_server([engine], wait=False).client
    assert warming.wait(10)
    assert client.health() == "NOT_SERVING"
    release.set()
    client.wait_until_serving(10)
    assert engine.pipeline.adapters._gamma == 1.0  # the warm-up fused the default gamma


def test_concurrent_jobs_with_different_gamma_do_not_mix(start_server, tiny_weights, photo):
    client = start_server([_engine(tiny_weights)]).client
    gammas = [1.0, 0.0, 0.5, 1.0, 0.0]
    alone = {g: client.deblur_image(photo, engine="osdd", params={"gamma": g})
             for g in set(gammas)}
    with ThreadPoolExecutor(len(gammas)) as pool:
        results = list(pool.map(
            lambda g: client.deblur_image(photo, engine="osdd", params={"gamma": g}), gammas))
    for gamma, result in zip(gammas, results, strict=True):
        assert np.array_equal(result, alone[gamma]), gamma


def test_serve_exits_when_weights_that_pass_the_checks_cannot_load(weights_copy):
    from backend.engine.osdd import layout

    unet = weights_copy / "unet/diffusion_pytorch_model.safetensors"
    unet.write_bytes(b"\0" * unet.stat().st_size)  # same size, re-hashed: only loading sees it
    manifest = layout.read_manifest(weights_copy)
    layout.write_manifest(weights_copy, manifest.timestep, manifest.prompt)
    done = subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--port", "0",
                           "--engine", "osdd", "--weights", str(weights_copy),
                           "--device", "cpu"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "cannot load the OSDD weights" in done.stderr
    assert "diffusion_pytorch_model.safetensors" in done.stderr


def test_serve_on_two_devices_loads_the_model_on_each_and_gives_the_same_result(
        start_server, tiny_weights, photo, tmp_path):
    from backend.rpc.client import DeblurClient

    params = {"tile_size": 64, "overlap": 16}  # 12 tiles, shared by the two devices
    alone = start_server([_engine(tiny_weights)]).client.deblur_image(
        photo, engine="osdd", params=params)
    port_file = tmp_path / "port"
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", "0",
                             "--engine", "osdd", "--weights", str(tiny_weights),
                             "--dtype", "fp32", "--devices", "cpu,cpu",
                             "--port-file", str(port_file)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        with DeblurClient(port_file.read_text().strip()) as client:
            client.wait_until_serving(60)
            assert client.info().device == "cpu,cpu"
            both = client.deblur_image(photo, engine="osdd", params=params)
    finally:
        proc.terminate()
        log = proc.communicate(timeout=30)[1]
    assert np.array_equal(both, alone)
    assert log.count("engine osdd ready on cpu") == 2, log


def test_serve_takes_every_visible_gpu_and_refuses_cpu_workers_there(tiny_weights,
                                                                     monkeypatch, capsys):
    from backend.cli import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert main(["serve", "--port", "0", "--weights", str(tiny_weights),
                 "--cpu-workers", "2"]) != 0
    assert ("--cpu-workers is for a server on the CPU; on cuda:0, cuda:1 each device has "
            "one worker") in capsys.readouterr().err


@pytest.mark.parametrize("devices,message", [
    ("cpu,,cpu", "a device list names devices separated by commas, got 'cpu,,cpu'"),
    ("tpu:0", "unknown device 'tpu:0'"),
])
def test_a_bad_device_list_is_refused_before_anything_loads(devices, message, capsys):
    from backend.cli import main

    assert main(["serve", "--port", "0", "--devices", devices]) != 0
    assert message in capsys.readouterr().err
