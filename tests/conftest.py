"""Shared fixtures: small deterministic engines and a real server on port 0."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from backend.engine.base import Engine, PreparedJob
from backend.types import ParamSpec

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


class InvertEngine(Engine):
    """out = 1 - in, so round trips are checkable to the last bit; optionally slow."""

    name = "invert"
    description = "test engine: 1 - x"
    default_tile_size = 32
    default_overlap = 8

    def __init__(self, tile_delay: float = 0.0, gate: threading.Event | None = None,
                 load_gate: threading.Event | None = None) -> None:
        self.tile_delay = tile_delay
        self.gate = gate
        self.load_gate = load_gate
        self.tiles_run = 0

    def engine_params(self) -> tuple[ParamSpec, ...]:
        return (ParamSpec("gamma", "float", 1.0, 0.0, 1.0, "test parameter"),)

    def load(self) -> None:
        if self.load_gate is not None:
            self.load_gate.wait(10)

    def batch_size(self, tile_height: int, tile_width: int) -> int:
        return 2

    def prepare(self, image: np.ndarray, params: Mapping[str, float], seed,
                should_stop=lambda: False) -> PreparedJob:
        def process(batch: np.ndarray) -> np.ndarray:
            if self.gate is not None:
                self.gate.wait(10)
            time.sleep(self.tile_delay)
            self.tiles_run += len(batch)
            return 1.0 - batch

        return PreparedJob(process)


class Running:
    """A started server plus a client connected to it."""

    def __init__(self, server, client) -> None:
        self.server = server
        self.client = client
        self.address = server.address


@pytest.fixture
def start_server():
    """start_server(engines=None, limits=None, **config) -> Running; stopped at teardown."""
    from backend.engine.service import DeblurService
    from backend.rpc.client import DeblurClient
    from backend.server.app import DeblurServer, ServerConfig
    from backend.types import Limits

    started: list[Running] = []

    def start(engines=None, limits: Limits | None = None, wait: bool = True,
              token: str | None = None, **config) -> Running:
        service = DeblurService(engines or [InvertEngine()], limits or Limits())
        server = DeblurServer(ServerConfig(port=0, grace_seconds=2, token=token, **config),
                              service).start()
        client = DeblurClient(f"127.0.0.1:{server.port}", token=token)
        running = Running(server, client)
        started.append(running)
        if wait:
            client.wait_until_serving(10)
        return running

    yield start
    for running in started:
        running.client.close()
        running.server.stop(0)


@pytest.fixture
def server(start_server) -> Running:
    return start_server()


def free_port() -> int:
    """A loopback port nothing listens on (nothing will answer a client sent there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unused_address() -> str:
    return f"127.0.0.1:{free_port()}"
