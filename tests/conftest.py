"""Shared fixtures: small deterministic engines, a real server on port 0, and the test
photos and camera-shake kernels, made here so that no test reads anything outside the
repository."""

from __future__ import annotations

import functools
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

# scikit-image's bundled photos (CC0 or public domain; no download), standing in for the
# project's bench set: a portrait, a street scene, a cat, a table-top, a launch.
BENCH_PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket")
# The sizes of the bench set's kernels (17 to 57 px), so "kernel i" is as long a shake as
# it is there; the paths themselves come from the project's own camera-shake generator.
BENCH_KERNEL_SIZES = (17, 23, 29, 35, 39, 45, 51, 57)
KERNEL_SEED = 20261128


def sample_photo(name: str, crop: int | tuple[int, int] | None = None) -> np.ndarray:
    """scikit-image's photo `name` as HxWx3 float32 in [0, 1] (grey repeated), or its centred
    crop of side `crop` or of (height, width) `crop`."""
    from skimage import data

    image = getattr(data, name)()
    image = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    if crop is not None:
        height, width = (crop, crop) if isinstance(crop, int) else crop
        y, x = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
        if min(y, x) < 0:
            raise ValueError(f"{name} is {image.shape[:2]}, smaller than the crop {crop}")
        image = image[y:y + height, x:x + width]
    return np.ascontiguousarray(image, np.float32) / 255


@functools.cache
def srgb_icc_profile() -> bytes:
    """An sRGB ICC profile, made once: lcms stamps each new one with the current second,
    so two made a second apart differ."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def shake_kernel_of(index: int) -> np.ndarray:
    """Camera-shake kernel `index` of the bench ladder: float32, sums to 1, the same on
    every run (each kernel has its own seed, so one does not depend on the others)."""
    from backend.train.data.kernels import random_kernel

    size = BENCH_KERNEL_SIZES[index]
    return random_kernel(np.random.default_rng([KERNEL_SEED, index]), (size, size))


@pytest.fixture(scope="session")
def bench_folder(tmp_path_factory) -> Path:
    """A folder laid out as the bench set (photos, kernels.npz), for `bench:` datasets and
    `osdd data synth --sharp`."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("bench")
    for name in BENCH_PHOTOS:
        pixels = np.round(sample_photo(name) * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{name}.png")
    np.savez(folder / "kernels.npz", **{f"k{i:02d}_{size}px": shake_kernel_of(i)
                                        for i, size in enumerate(BENCH_KERNEL_SIZES)})
    return folder


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
        self.seeds: list[int | None] = []  # the seed of every job, in order

    def engine_params(self) -> tuple[ParamSpec, ...]:
        return (ParamSpec("gamma", "float", 1.0, 0.0, 1.0, "test parameter"),)

    def load(self) -> None:
        if self.load_gate is not None:
            self.load_gate.wait(10)

    def batch_size(self, tile_height: int, tile_width: int) -> int:
        return 2

    def prepare(self, image: np.ndarray, params: Mapping[str, float], seed,
                should_stop=lambda: False) -> PreparedJob:
        self.seeds.append(seed)

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
    from backend.jobs.service import DeblurService
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
