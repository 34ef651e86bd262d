"""How a server answers health checks and GetInfo while clients stall their uploads and a
job runs: latency percentiles of each, measured side by side in one run. Prints, never
asserts (timings on a shared machine are noise for tests).

    .venv/bin/python benchmarks/server_load.py [--stalled 50] [--probes 200]

Rows: an idle server; STALLED clients that sent a header and a little data and then stop;
the same while a classical job deblurs the bundled photo. A row's "failed" column counts
probes that got no answer within a second.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.engine.classical import ClassicalEngine  # noqa: E402
from backend.jobs.service import DeblurService  # noqa: E402
from backend.rpc._pb import deblur_pb2 as pb  # noqa: E402
from backend.rpc._pb import deblur_pb2_grpc as pb_grpc  # noqa: E402
from backend.rpc.client import DeblurClient  # noqa: E402
from backend.server.app import DeblurServer, ServerConfig  # noqa: E402
from backend.types import Limits  # noqa: E402

PHOTO = REPO / "backend" / "samples" / "clock_motion.png"


def probe(channel: grpc.Channel, count: int) -> tuple[list[float], list[float], int]:
    health = health_pb2_grpc.HealthStub(channel)
    deblur = pb_grpc.DeblurStub(channel)
    health_ms, info_ms, failed = [], [], 0
    for _ in range(count):
        for call, request, into in ((health.Check, health_pb2.HealthCheckRequest(), health_ms),
                                    (deblur.GetInfo, pb.GetInfoRequest(), info_ms)):
            started = time.perf_counter()
            try:
                call(request, timeout=1.0)
                into.append((time.perf_counter() - started) * 1000)
            except grpc.RpcError:
                failed += 1
        time.sleep(0.005)
    return health_ms, info_ms, failed


def stall(address: str, count: int, gate: threading.Event) -> list:
    header = pb.DeblurRequest(header=pb.DeblurHeader(width=512, height=512, channels=3,
                                                     pixel_type=pb.PIXEL_TYPE_U8))

    def requests():
        yield header
        yield pb.DeblurRequest(chunk=bytes(4096))
        gate.wait(600)

    channel = grpc.insecure_channel(address)
    return [channel] + [pb_grpc.DeblurStub(channel).Deblur(requests()) for _ in range(count)]


def row(name: str, health_ms: list[float], info_ms: list[float], failed: int) -> None:
    def cells(values: list[float]) -> str:
        if not values:
            return f"{'-':>8}{'-':>8}{'-':>8}"
        p50, p99, top = np.percentile(values, [50, 99, 100])
        return f"{p50:8.1f}{p99:8.1f}{top:8.1f}"

    print(f"{name:<34}{cells(health_ms)}  {cells(info_ms)}{failed:>8}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stalled", type=int, default=50)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    limits = Limits(max_uploads=args.stalled + 4, upload_idle_seconds=600)
    server = DeblurServer(ServerConfig(port=0), DeblurService([ClassicalEngine()],
                                                              limits)).start()
    client = DeblurClient(server.address)
    client.wait_until_serving(60)
    gate = threading.Event()
    print(f"{'ms':<34}{'health p50':>8}{'p99':>8}{'max':>8}  {'info p50':>8}{'p99':>8}"
          f"{'max':>8}{'failed':>8}")
    with grpc.insecure_channel(server.address) as channel:
        row("idle", *probe(channel, args.probes))
        held = stall(server.address, args.stalled, gate)
        while server.uploads.count < args.stalled:
            time.sleep(0.05)
        row(f"{args.stalled} stalled uploads", *probe(channel, args.probes))
        photo = np.asarray(Image.open(PHOTO).convert("RGB"))
        job = threading.Thread(target=lambda: list(client.deblur(photo, engine="classical")))
        job.start()
        row(f"{args.stalled} stalled + a classical job", *probe(channel, args.probes))
        job.join()
    gate.set()
    held[0].close()
    client.close()
    server.stop(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
