"""Throughput of `osdd batch` over 1, 2 and 3 servers on one machine (loopback), measured
side by side in one run. Prints, never asserts.

    .venv/bin/python benchmarks/batch_servers.py [--photos 24] [--size 320] [--servers 1,2,3]

Each server is its own `osdd serve` process with the classical engine and one CPU
worker; the photos are crops (at most --size square) of scikit-image's CC0 photos,
blurred by the project's camera-shake generator. On a machine with fewer cores than
servers the gain stops at the core count: the figure shows how well the client spreads
files, not a cluster's speed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.batch import DONE, BatchRun, plan_batch  # noqa: E402
from backend.images import write_image  # noqa: E402
from backend.rpc.client import DeblurClient  # noqa: E402
from backend.train.data.kernels import random_kernel  # noqa: E402
from backend.train.data.protocol import protocol_blur  # noqa: E402

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins")


def make_photos(folder: Path, count: int, size: int) -> None:
    from skimage import data

    rng = np.random.default_rng(11)
    for index in range(count):
        image = getattr(data, PHOTOS[index % len(PHOTOS)])().astype(np.float32) / 255
        image = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
        side = min(size, *image.shape[:2])
        y = rng.integers(0, image.shape[0] - side + 1)
        x = rng.integers(0, image.shape[1] - side + 1)
        kernel = random_kernel(rng, (21, 21))
        blurred = protocol_blur(image[y:y + side, x:x + side], kernel, rng)
        write_image(folder / f"p{index:02d}.png",
                    (np.clip(blurred, 0, 1) * 255).astype(np.uint8))


def start_server(folder: Path, index: int) -> tuple[subprocess.Popen, str]:
    port_file = folder / f"server{index}.address"
    process = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", "0", "--port-file",
         str(port_file), "--engine", "classical", "--log-level", "warning"],
        cwd=REPO, stdin=subprocess.DEVNULL)
    while not port_file.exists():
        if process.poll() is not None:
            raise SystemExit(f"server {index} exited with {process.returncode}")
        time.sleep(0.05)
    address = port_file.read_text().strip()
    with DeblurClient(address) as client:
        client.wait_until_serving(120)
    return process, address


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--servers", default="1,2,3")
    args = parser.parse_args()
    counts = [int(n) for n in args.servers.split(",")]
    with tempfile.TemporaryDirectory(prefix="osdd-batch-bench-") as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        make_photos(folder / "in", args.photos, args.size)
        servers = [start_server(folder, i) for i in range(max(counts))]
        try:
            print(f"{args.photos} photos of {args.size}x{args.size}, classical engine")
            baseline = None
            for count in counts:
                out = folder / f"out{count}"
                out.mkdir()
                address = ",".join(a for _, a in servers[:count])
                items = plan_batch([folder / "in"], out)
                with DeblurClient(address) as client:
                    started = time.perf_counter()
                    for _ in BatchRun(client, items, workers=count).run():
                        pass
                    seconds = time.perf_counter() - started
                done = sum(item.status == DONE for item in items)
                baseline = baseline or seconds
                print(f"{count} server(s): {seconds:6.1f} s, {done}/{len(items)} done, "
                      f"{len(items) / seconds:5.2f} files/s, speed-up {baseline / seconds:.2f}x",
                      flush=True)
        finally:
            for process, _ in servers:
                process.terminate()
                process.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
