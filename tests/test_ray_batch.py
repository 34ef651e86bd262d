"""`osdd batch --ray`: the batch as a Ray Data pipeline on a local Ray instance, each Ray
worker hosting the classical engine; the same files as a server would give, the tree
kept, finished files skipped, a broken file failing alone."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from backend.batch import WAITING, BatchItem
from backend.cli import main
from backend.cluster import RayPlan, plan_workers, run_on_ray
from backend.engine.classical import ClassicalEngine
from backend.engine.registry import EngineOptions
from backend.errors import ConfigError
from backend.images import read_image, write_image
from backend.jobs.service import DeblurService
from backend.train.data.protocol import protocol_blur
from backend.types import JobOptions, JobSpec

from .conftest import sample_photo, shake_kernel_of


def shaken(name: str) -> np.ndarray:
    """A 160 px crop of a CC0 photo shaken by a 17 px kernel, as 8-bit pixels."""
    blurred = protocol_blur(sample_photo(name, 160), shake_kernel_of(0), seed=1)
    return np.round(np.clip(blurred, 0, 1) * 255).astype(np.uint8)


@pytest.mark.slow
def test_a_folder_is_deblurred_on_a_local_ray_instance(tmp_path, capsys):
    source, out = tmp_path / "in", tmp_path / "out"
    photos = {"a.png": shaken("camera"), "trip/b.png": shaken("astronaut")}
    for name, pixels in photos.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        write_image(source / name, pixels)
    (source / "trip" / "broken.png").write_bytes(b"not a png")

    assert main(["batch", str(source), str(out), "--ray", "local", "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert "2 done, 1 failed" in err and "broken.png" in err
    local = DeblurService([ClassicalEngine()])
    for name, pixels in photos.items():
        expected, _ = local.deblur(JobSpec(pixels))
        result = read_image(out / name)
        np.testing.assert_array_equal(result, expected)  # as a server would deblur it
        assert np.abs(result.astype(int) - pixels).mean() > 1  # and it was deblurred

    before = {name: (out / name).stat().st_mtime_ns for name in photos}
    assert main(["batch", str(source), str(out), "--ray", "local"]) == 1
    assert "2 skipped, 1 failed" in capsys.readouterr().err
    assert {name: (out / name).stat().st_mtime_ns for name in photos} == before


def test_workers_follow_the_cluster():
    assert plan_workers({"CPU": 32, "GPU": 4}, nodes=2, workers=None) == RayPlan(4, 1.0, 1.0)
    assert plan_workers({"CPU": 32}, nodes=2, workers=None) == RayPlan(2, 16.0, 0.0)
    assert plan_workers({"CPU": 2}, nodes=1, workers=4) == RayPlan(4, 1.0, 0.0)


def test_a_bad_job_is_refused_before_any_cluster_work(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    write_image(tmp_path / "in" / "a.png", shaken("camera"))
    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--ray",
                 "ray://nowhere.invalid:10001", "--param", "strength=7"]) == 1
    assert "strength" in capsys.readouterr().err
    assert not (tmp_path / "out" / "a.png").exists()


def test_without_ray_the_user_is_told_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    items = [BatchItem(tmp_path / "a.png", tmp_path / "out.png", WAITING)]
    with pytest.raises(ConfigError, match=r"osdd-deblur\[cluster\]"):
        list(run_on_ray(items, JobOptions(), EngineOptions(), "local"))


class _SlowStartRay:
    """A Ray whose instance comes up only on try ``up_on`` (never if 0): records the start
    wait it was given, its tries and the shutdowns that cleaned up after them."""

    def __init__(self, up_on: int = 0) -> None:
        self.up_on, self.wait, self.tries, self.shutdowns = up_on, None, 0, 0

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs) -> None:
        import os

        self.wait = os.environ.get("RAY_gcs_server_port_wait_time_s")
        self.tries += 1
        if self.tries != self.up_on:
            raise Exception("The current node timed out during startup.")  # as Ray does

    def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.mark.parametrize("own,expected", [(None, "120"), ("45", "45")])
def test_a_local_ray_instance_gets_time_to_start_and_a_clear_error_if_it_does_not(
        tmp_path, monkeypatch, own, expected):
    import backend.cluster

    ray = _SlowStartRay()
    monkeypatch.setattr(backend.cluster, "_ray", lambda: ray)
    monkeypatch.setenv("RAY_gcs_server_port_wait_time_s", own or "")  # undone afterwards
    if own is None:
        monkeypatch.delenv("RAY_gcs_server_port_wait_time_s")
    items = [BatchItem(tmp_path / "a.png", tmp_path / "out.png", WAITING)]
    with pytest.raises(ConfigError, match="cannot reach the Ray cluster at local: The current"):
        list(run_on_ray(items, JobOptions(), EngineOptions(), "local"))
    assert ray.wait == expected
    assert ray.tries == 3 and ray.shutdowns == 3  # tried again, nothing left running


def test_a_local_ray_instance_that_comes_up_on_a_later_try_is_used(monkeypatch):
    import backend.cluster

    ray = _SlowStartRay(up_on=2)
    monkeypatch.setenv("RAY_gcs_server_port_wait_time_s", "45")  # undone afterwards
    backend.cluster._start(ray, "local")
    assert ray.tries == 2 and ray.shutdowns == 1


def test_a_remote_cluster_is_tried_once():
    import backend.cluster

    ray = _SlowStartRay(up_on=2)
    with pytest.raises(ConfigError, match="cannot reach the Ray cluster at ray://far:10001"):
        backend.cluster._start(ray, "ray://far:10001")
    assert ray.tries == 1
