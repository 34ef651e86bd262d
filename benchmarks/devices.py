"""One large photo on one device and on several, side by side in one run (prints, never
asserts): the tiles of one job are shared by every device's worker (`osdd serve --devices`).

    .venv/bin/python benchmarks/devices.py [--devices cpu,cpu] [--weights DIR]
        [--megapixels 12]

Without --weights the engine is the classical one (on a CPU, two "devices" are two
engine sets sharing its cores, as --cpu-workers 2 does); with --weights it is osdd, and
``--devices all`` takes every visible GPU (benchmarks/gpu_osdd.sh does that when there
are several). The photo is scheduling.py's: scikit-image's astronaut tiled to the size
asked, shaken by a 25 px kernel.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scheduling import shaken_photo  # noqa: E402

from backend.engine.osdd.devices import parse_devices, visible_gpus  # noqa: E402
from backend.engine.registry import EngineOptions, build_engines  # noqa: E402
from backend.jobs.queue import JobQueue  # noqa: E402
from backend.jobs.service import DeblurService  # noqa: E402
from backend.types import Done, JobSpec, Limits, TileResult  # noqa: E402


def run_on(devices: list[str], engine: str, weights: Path | None,
           image: np.ndarray) -> tuple[float, np.ndarray, str]:
    """Seconds for the job once the engines are loaded, the result, and Done's devices."""
    limits = Limits(max_pixels=max(Limits().max_pixels, image.shape[0] * image.shape[1]))
    services = [DeblurService(build_engines([engine], EngineOptions(weights, device)),
                              limits, device) for device in devices]
    ready = []
    jobs = JobQueue(services[0], 4, on_ready=lambda: ready.append(True),
                    devices=services[1:])
    jobs.start()
    while not ready:
        if jobs.load_error is not None:
            raise jobs.load_error
        time.sleep(0.05)
    out, used = np.array(image), ""
    started = time.perf_counter()
    for event in jobs.submit(JobSpec(image, engine)):
        if isinstance(event, TileResult):
            out[event.region.slices] = event.pixels
        elif isinstance(event, Done):
            used = event.device
    seconds = time.perf_counter() - started
    jobs.close()
    jobs.join(60)
    return seconds, out, used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default="cpu,cpu",
                        help="comma-separated, or 'all' for every visible GPU")
    parser.add_argument("--weights", type=Path, help="an osdd weights folder (else classical)")
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()
    devices = visible_gpus() if args.devices == "all" else parse_devices(args.devices)
    if not devices:
        sys.exit("no GPU visible: pass --devices")
    engine = "osdd" if args.weights else "classical"
    image = shaken_photo(args.megapixels)
    print(f"photo {image.shape[1]}x{image.shape[0]} ({image.shape[0] * image.shape[1] / 1e6:.1f}"
          f" MP), {engine} engine, defaults", flush=True)
    one, first, _ = run_on(devices[:1], engine, args.weights, image)
    print(f"1 device  ({devices[0]}): {one:7.1f} s", flush=True)
    many, out, used = run_on(devices, engine, args.weights, image)
    print(f"{len(devices)} devices ({used}): {many:7.1f} s", flush=True)
    diff = int(np.abs(out.astype(np.int16) - first.astype(np.int16)).max())
    print(f"speed-up {one / many:.2f}x on {len(devices)} devices; largest difference from the "
          f"one-device result: {diff} (8-bit levels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
