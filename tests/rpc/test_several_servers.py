"""One client, several servers: jobs spread over the live ones, a dead address costs
nothing, and a job whose server stops mid-way (or whose server process is killed) is
finished by another."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from backend.engine.classical import ClassicalEngine
from backend.errors import Cancelled, ConfigError
from backend.rpc.client import DeblurClient
from backend.rpc.targets import parse_target
from backend.types import Done, Progress, TileResult

from ..conftest import ROOT, InvertEngine  # noqa: TID252


@pytest.mark.parametrize("address,target,servers", [
    ("127.0.0.1:50051", "127.0.0.1:50051", 1),
    ("box.studio:7000", "box.studio:7000", 1),
    ("127.0.0.1:1, localhost:2", "ipv4:127.0.0.1:1,127.0.0.1:2", 2),
    ("[::1]:5,[::1]:6", "ipv6:[::1]:5,[::1]:6", 2),
    ("dns:///render.studio:50051", "dns:///render.studio:50051", None),
])
def test_addresses_become_one_balanced_target(address, target, servers):
    parsed = parse_target(address)
    assert (parsed.target, parsed.servers) == (target, servers)
    assert '"round_robin"' in dict(parsed.options())["grpc.service_config"]


@pytest.mark.parametrize("address,message", [
    ("", "no server address"),
    ("127.0.0.1", "must be host:port"),
    ("127.0.0.1:1,127.0.0.1:99999", "must be host:port"),
    ("127.0.0.1:1,[::1]:2", "mix IPv4 and IPv6"),
    ("127.0.0.1:1,no-such-host.invalid:2", "cannot resolve server 'no-such-host.invalid'"),
])
def test_bad_addresses_are_refused_with_what_is_wrong(address, message):
    with pytest.raises(ConfigError, match=message):
        DeblurClient(address)


def job(client: DeblurClient, size: int = 64) -> list:
    image = np.random.default_rng(size).integers(0, 256, (size, size, 3), dtype=np.uint8)
    events = list(client.deblur(image, engine="invert", timeout=30))
    out = np.zeros_like(image)
    for event in events:
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
    np.testing.assert_array_equal(out, 255 - image)
    return events


def test_jobs_spread_over_live_servers_and_skip_a_dead_one(start_server, unused_address):
    engines = [InvertEngine(), InvertEngine()]
    first, second = (start_server([engine]) for engine in engines)
    with DeblurClient(f"{first.address},{unused_address},{second.address}") as client:
        client.wait_until_serving(10)
        runs = [job(client) for _ in range(8)]
    assert all(isinstance(events[-1], Done) for events in runs)
    tiles = sum(isinstance(event, TileResult) for events in runs for event in events)
    assert sum(engine.tiles_run for engine in engines) == tiles  # no job ran twice
    assert all(engine.tiles_run > 0 for engine in engines)  # both servers got jobs


def test_a_job_whose_server_stops_mid_way_is_finished_by_another(start_server):
    gate = threading.Event()
    stuck = InvertEngine(gate=gate)  # holds its first tile until the gate opens
    spare = InvertEngine()
    first, second = start_server([stuck]), start_server([spare])
    with DeblurClient(f"{first.address},{second.address}") as client:
        client.wait_until_serving(10)
        # Round robin: send jobs until one lands on the stuck server, then stop it.
        outcome = {}

        def run():
            outcome["events"] = job(client, 96)

        runner = None
        for _ in range(4):
            runner = threading.Thread(target=run)
            runner.start()
            runner.join(1.0)
            if runner.is_alive():
                break
        assert runner is not None and runner.is_alive(), "no job reached the stuck server"
        first.server.stop(0)
        gate.set()
        runner.join(20)
    events = outcome["events"]
    assert isinstance(events[-1], Done)
    notes = [e.message for e in events if isinstance(e, Progress) and e.stage == "resending"]
    assert len(notes) == 1 and "sending it to another server" in notes[0]


def test_a_cancelled_job_is_not_sent_again(start_server):
    gate = threading.Event()
    engines = [InvertEngine(gate=gate), InvertEngine(gate=gate)]
    first, second = (start_server([engine]) for engine in engines)
    try:
        with DeblurClient(f"{first.address},{second.address}") as client:
            client.wait_until_serving(10)
            call = client.deblur(np.zeros((64, 64, 3), np.uint8), engine="invert")
            threading.Timer(0.5, call.cancel).start()
            with pytest.raises(Cancelled):
                list(call)
    finally:
        gate.set()
    assert sum(engine.tiles_run for engine in engines) <= 2  # one batch, one server


def test_the_cli_takes_several_servers(start_server, unused_address, tmp_path):
    from backend.cli import main

    live = start_server()
    photo = np.random.default_rng(5).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "in.png")
    assert main(["deblur", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"),
                 "--server", f"{unused_address},{live.address}"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), 255 - photo)


class _CountingClassical(ClassicalEngine):
    """The classical engine, counting the jobs it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs = 0

    def prepare(self, *args, **kwargs):
        self.jobs += 1
        return super().prepare(*args, **kwargs)


@pytest.mark.slow
def test_a_server_process_killed_mid_job_has_the_job_finished_by_another(start_server,
                                                                        tmp_path):
    # A real server process, killed outright (no graceful stop, as a crash or an
    # out-of-memory kill leaves it), while it estimates the blur of a job.
    port_file = tmp_path / "port"
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", "0", "--port-file",
         str(port_file), "--engine", "classical", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not port_file.is_file():
            assert process.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.1)
        local = _CountingClassical()
        spare = start_server([local])
        photo = np.random.default_rng(3).integers(0, 256, (320, 320, 3), dtype=np.uint8)
        with DeblurClient(f"{port_file.read_text().strip()},{spare.address}") as client:
            client.wait_until_serving(10)
            for _ in range(6):  # round robin: until a job lands on the process
                before = local.jobs
                outcome: dict[str, list] = {}
                runner = threading.Thread(target=lambda out=outcome: out.setdefault(
                    "events", list(client.deblur(photo, engine="classical", timeout=120))))
                runner.start()
                time.sleep(1.0)
                if local.jobs == before:
                    break
                runner.join(120)
            assert local.jobs == before, "no job reached the server process"
            process.kill()
            runner.join(120)
        events = outcome["events"]
        assert isinstance(events[-1], Done) and local.jobs == before + 1
        covered = sum(e.region.area for e in events if isinstance(e, TileResult))
        assert covered == photo.shape[0] * photo.shape[1]
        notes = [e.message for e in events if isinstance(e, Progress) and e.stage == "resending"]
        assert len(notes) == 1 and "sending it to another server" in notes[0]
    finally:
        process.kill()
        process.wait(10)
