"""Auth, queueing, cancellation, deadlines, health and shutdown on a real server."""

import threading
import time

import numpy as np
import pytest

from backend.errors import (
    Cancelled,
    ConfigError,
    DeadlineExceeded,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from backend.types import Accepted, Done, Limits, Progress, Queued

from ..conftest import InvertEngine  # noqa: TID252

IMAGE = np.zeros((64, 64, 3), np.uint8)
SMALL_TILES = {"tile_size": 16, "overlap": 0}  # 16 tiles


def test_loopback_without_token_works(server):
    assert server.client.deblur_image(IMAGE).max() == 255


def test_remote_bind_needs_the_flag_and_a_token():
    from backend.jobs.service import DeblurService
    from backend.server.app import DeblurServer, ServerConfig

    service = DeblurService([InvertEngine()])
    with pytest.raises(ConfigError, match="--allow-remote"):
        DeblurServer(ServerConfig(host="0.0.0.0", port=0), service)
    with pytest.raises(ConfigError, match="token"):
        DeblurServer(ServerConfig(host="0.0.0.0", port=0, allow_remote=True), service)


def test_token_is_checked_on_every_rpc_but_health(start_server):
    from backend.rpc.client import DeblurClient

    running = start_server(token="s3cret", wait=False)
    running.client.wait_until_serving(10)  # health needs no token
    assert running.client.deblur_image(IMAGE).max() == 255
    for token in (None, "wrong"):
        with DeblurClient(running.address, token=token) as other:
            assert other.health() == "SERVING"
            with pytest.raises(Unauthenticated, match="token"):
                other.info()
            with pytest.raises(Unauthenticated):
                other.deblur_image(IMAGE)


@pytest.mark.parametrize("header,accepted", [
    ("Bearer s3cret", True), ("bearer s3cret", True), ("BEARER  s3cret ", True),
    ("Basic s3cret", False), ("Bearer S3CRET", False), ("s3cret", False),
])
def test_the_bearer_scheme_is_case_insensitive_the_token_is_not(start_server, header,
                                                                accepted):
    import grpc

    from backend.rpc._pb import deblur_pb2 as pb
    from backend.rpc._pb import deblur_pb2_grpc as pb_grpc

    running = start_server(token="s3cret")
    with grpc.insecure_channel(running.address) as channel:
        stub = pb_grpc.DeblurStub(channel)
        if accepted:
            assert stub.GetInfo(pb.GetInfoRequest(), metadata=(("authorization", header),))
        else:
            with pytest.raises(grpc.RpcError) as caught:
                stub.GetInfo(pb.GetInfoRequest(), metadata=(("authorization", header),))
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_remote_bind_with_token_serves_authenticated_clients(start_server):
    from backend.rpc.client import DeblurClient

    running = start_server(host="0.0.0.0", allow_remote=True, token="t0k", wait=False)
    with DeblurClient(f"127.0.0.1:{running.server.port}", token="t0k") as client:
        client.wait_until_serving(10)
        assert client.info().default_engine == "invert"


def test_health_is_not_serving_while_the_engine_loads(start_server):
    loaded = threading.Event()
    running = start_server([InvertEngine(load_gate=loaded)], wait=False)
    assert running.client.health() == "NOT_SERVING"
    loaded.set()
    running.client.wait_until_serving(10)
    assert running.client.health() == "SERVING"


def test_cancel_stops_the_job_and_frees_the_worker(start_server):
    engine = InvertEngine(tile_delay=0.2)
    running = start_server([engine])
    call = running.client.deblur(IMAGE, params=SMALL_TILES)
    with pytest.raises(Cancelled):
        for event in call:
            if isinstance(event, Progress) and event.tiles_done >= 2:
                call.cancel()
    time.sleep(0.5)
    assert engine.tiles_run < 8, "the job must stop within a tile or so of the cancel"
    engine.tile_delay = 0.0
    started = time.monotonic()
    events = list(running.client.deblur(IMAGE, params=SMALL_TILES))
    assert events[0] == Accepted(events[0].job_id, 0)
    assert isinstance(events[-1], Done) and time.monotonic() - started < 2


def test_deadline_stops_the_job_and_frees_the_worker(start_server):
    engine = InvertEngine(tile_delay=0.2)
    running = start_server([engine])
    with pytest.raises(DeadlineExceeded):
        running.client.deblur_image(IMAGE, params=SMALL_TILES, timeout=0.5)
    time.sleep(0.5)
    assert engine.tiles_run < 8
    engine.tile_delay = 0.0
    assert running.client.deblur_image(IMAGE, timeout=5).max() == 255


def test_queue_reports_positions_and_rejects_when_full(start_server):
    gate = threading.Event()
    running = start_server([InvertEngine(gate=gate)],
                           limits=Limits(max_queued_jobs=1, max_concurrent_jobs=1))
    first = running.client.deblur(IMAGE)
    first_events = iter(first)
    assert next(first_events).queue_position == 0
    assert isinstance(next(first_events), Progress)  # running, blocked on the gate
    second = iter(running.client.deblur(IMAGE))
    assert next(second).queue_position == 1
    with pytest.raises(ResourceExhausted, match="queue is full"):
        running.client.deblur_image(IMAGE)
    gate.set()
    assert isinstance(list(first_events)[-1], Done)
    rest = list(second)
    assert Queued(0) in rest and isinstance(rest[-1], Done)




def test_cancelled_waiting_job_leaves_the_queue(start_server):
    gate = threading.Event()
    running = start_server([InvertEngine(gate=gate)],
                           limits=Limits(max_queued_jobs=1, max_concurrent_jobs=1))
    first = iter(running.client.deblur(IMAGE))
    next(first), next(first)
    waiting = running.client.deblur(IMAGE)
    waiting_events = iter(waiting)
    assert next(waiting_events).queue_position == 1
    waiting.cancel()
    with pytest.raises(Cancelled):
        list(waiting_events)
    time.sleep(0.2)
    third = iter(running.client.deblur(IMAGE))  # room again
    assert next(third).queue_position == 1
    gate.set()
    assert isinstance(list(first)[-1], Done) and isinstance(list(third)[-1], Done)


def test_shutdown_finishes_running_jobs_and_refuses_new_ones(start_server):
    gate = threading.Event()  # holds the running job until the checks are done
    engine = InvertEngine(gate=gate)
    running = start_server([engine])
    results = []

    def run():
        results.append(running.client.deblur_image(IMAGE, params=SMALL_TILES))

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    stopper = threading.Thread(target=running.server.stop, args=(5,))
    stopper.start()
    time.sleep(0.1)
    try:
        assert running.client.health() == "NOT_SERVING"
        with pytest.raises((Unavailable, ResourceExhausted)):
            running.client.deblur_image(IMAGE)
    finally:
        gate.set()
    worker.join(10)
    stopper.join(10)
    assert results and results[0].max() == 255


def test_a_second_server_on_a_busy_port_is_refused(server):
    from backend.jobs.service import DeblurService
    from backend.server.app import DeblurServer, ServerConfig

    with pytest.raises(ConfigError, match="port is in use"):
        DeblurServer(ServerConfig(port=server.server.port), DeblurService([InvertEngine()]))


def test_connection_settings_come_from_options_then_the_environment(monkeypatch, tmp_path):
    from backend.rpc.client import DEFAULT_ADDRESS, ConnectionSettings

    for name in ("OSDD_SERVER", "OSDD_TOKEN", "OSDD_TLS_CA"):
        monkeypatch.delenv(name, raising=False)
    assert ConnectionSettings.resolve() == ConnectionSettings(DEFAULT_ADDRESS, None, None)
    monkeypatch.setenv("OSDD_SERVER", "box:50051")
    monkeypatch.setenv("OSDD_TOKEN", "from-env")
    monkeypatch.setenv("OSDD_TLS_CA", str(tmp_path / "ca.pem"))
    assert ConnectionSettings.resolve() == ConnectionSettings("box:50051", "from-env",
                                                              tmp_path / "ca.pem")
    given = ConnectionSettings.resolve("other:1", "given", tmp_path / "mine.pem")
    assert given == ConnectionSettings("other:1", "given", tmp_path / "mine.pem")
    assert given.at("third:2") == ConnectionSettings("third:2", "given", tmp_path / "mine.pem")


def test_every_front_end_reaches_a_protected_server_with_the_token(start_server, monkeypatch,
                                                                   tmp_path, capsys):
    from backend.cli import main
    from backend.rpc.client import ConnectionSettings

    running = start_server(token="s3cret")
    monkeypatch.delenv("OSDD_TOKEN", raising=False)
    assert main(["info", "--server", running.address]) == 1  # no token: refused
    assert "token" in capsys.readouterr().err
    assert main(["info", "--server", running.address, "--token", "s3cret"]) == 0
    monkeypatch.setenv("OSDD_TOKEN", "s3cret")
    assert main(["info", "--server", running.address]) == 0
    with ConnectionSettings.resolve(running.address).client() as client:
        assert client.info().engines
