"""Clients that upload slowly, stall or open calls and send nothing hold no thread: health,
GetInfo and other clients' jobs go on; a stalled upload is ended after the idle timeout and
uploads past the server's caps are refused at once."""

from __future__ import annotations

import threading
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from backend.rpc._pb import deblur_pb2 as pb
from backend.rpc._pb import deblur_pb2_grpc as pb_grpc
from backend.types import Done, Limits

from .test_bad_input import chunk, header


class Upload:
    """A raw Deblur call that sends `messages`, then waits for `gate` before ending its
    request stream (an upload stalled mid-way when the messages do not complete it)."""

    def __init__(self, channel: grpc.Channel, messages, gate: threading.Event) -> None:
        def requests():
            yield from messages
            gate.wait(60)

        self.call = pb_grpc.DeblurStub(channel).Deblur(requests())

    def outcome(self) -> tuple[grpc.StatusCode, str]:
        try:
            for _ in self.call:
                pass
        except grpc.RpcError as exc:
            return exc.code(), exc.details()
        return grpc.StatusCode.OK, ""


@pytest.fixture
def stall():
    gate = threading.Event()
    channels, uploads = [], []

    def open_uploads(address: str, count: int, messages) -> list[Upload]:
        channel = grpc.insecure_channel(address)
        channels.append(channel)
        # Kept here: gRPC cancels a call whose object is garbage-collected.
        uploads.extend(Upload(channel, messages, gate) for _ in range(count))
        return uploads[-count:]

    yield open_uploads
    gate.set()
    for channel in channels:
        channel.close()


def wait_for(condition, timeout=10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting for the server"
        time.sleep(0.02)


def test_stalled_uploads_leave_health_info_and_other_jobs_answering(start_server, stall):
    running = start_server(limits=Limits(max_uploads=20))
    # More stalled calls than the old server had threads (queue + workers + 8 = 17).
    stall(running.address, 12, [])  # opened, nothing sent
    stall(running.address, 16, [header(64, 64), chunk(100)])  # header and a little data
    wait_for(lambda: running.server.uploads.count == 16)
    with grpc.insecure_channel(running.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=2)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        info = pb_grpc.DeblurStub(channel).GetInfo(pb.GetInfoRequest(), timeout=2)
        assert [engine.name for engine in info.engines] == ["invert"]
    image = np.zeros((16, 16, 3), np.uint8)
    events = list(running.client.deblur(image, engine="invert", timeout=10))
    assert isinstance(events[-1], Done)


@pytest.mark.parametrize("sent", [[], [header(64, 64)], [header(64, 64), chunk(100)]],
                         ids=["nothing", "header only", "some pixels"])
def test_an_upload_that_pauses_past_the_idle_timeout_is_ended(start_server, stall, sent):
    running = start_server(limits=Limits(upload_idle_seconds=0.5))
    (upload,) = stall(running.address, 1, sent)
    started = time.monotonic()
    code, details = upload.outcome()
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "no data arrived for 0.5 s" in details
    assert time.monotonic() - started < 5
    wait_for(lambda: running.server.uploads.count == 0)


def test_a_slow_upload_within_the_idle_timeout_completes(start_server):
    running = start_server(limits=Limits(upload_idle_seconds=1.0))

    def slowly():
        yield header(8, 4)
        for _ in range(4):
            time.sleep(0.4)
            yield chunk(24, 10)

    with grpc.insecure_channel(running.address) as channel:
        events = list(pb_grpc.DeblurStub(channel).Deblur(slowly(), timeout=20))
    tiles = [e.tile for e in events if e.WhichOneof("event") == "tile"]
    assert tiles and all(set(t.pixels) == {245} for t in tiles)
    assert events[-1].WhichOneof("event") == "done"


def test_uploads_past_the_count_cap_are_refused_and_a_freed_slot_is_reused(start_server,
                                                                            stall):
    running = start_server(limits=Limits(max_uploads=2))
    first, second = stall(running.address, 2, [header(64, 64), chunk(10)])
    wait_for(lambda: running.server.uploads.count == 2)
    (third,) = stall(running.address, 1, [header(64, 64), chunk(10)])
    code, details = third.outcome()
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "2 uploads are already arriving" in details
    first.call.cancel()  # a client that leaves frees its slot
    wait_for(lambda: running.server.uploads.count == 1)
    image = np.zeros((16, 16, 3), np.uint8)
    assert isinstance(list(running.client.deblur(image, engine="invert"))[-1], Done)


def test_uploads_past_the_byte_cap_are_refused_but_one_large_image_is_not(start_server,
                                                                          stall):
    running = start_server(limits=Limits(max_upload_bytes=20_000))
    # 64x64x3 = 12288 bytes: the first fits, a second would pass 20000 bytes in flight.
    (first,) = stall(running.address, 1, [header(64, 64), chunk(10)])
    wait_for(lambda: running.server.uploads.count == 1)
    (second,) = stall(running.address, 1, [header(64, 64), chunk(10)])
    code, details = second.outcome()
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "12288 bytes are already arriving" in details
    first.call.cancel()
    wait_for(lambda: running.server.uploads.count == 0)
    # Alone, an image over the byte cap is still received (the pixel limit bounds it).
    large = np.zeros((100, 100, 3), np.uint8)
    assert isinstance(list(running.client.deblur(large, engine="invert"))[-1], Done)


@pytest.mark.parametrize("flag,message", [
    ("--upload-idle", "upload_idle_seconds must be more than 0, got 0"),
    ("--max-uploads", "max_uploads must be more than 0, got 0"),
    ("--max-upload-bytes", "max_upload_bytes must be more than 0, got 0"),
    ("--max-running", "max_concurrent_jobs must be more than 0, got 0"),
    ("--cpu-workers", "--cpu-workers must be 1 or more, got 0"),
])
def test_server_limits_must_be_positive(flag, message, capsys):
    from backend.cli import main

    assert main(["serve", "--port", "0", flag, "0"]) != 0
    assert message in capsys.readouterr().err
