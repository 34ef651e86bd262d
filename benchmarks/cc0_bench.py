"""The classical engine on a set anyone can rebuild: scikit-image's CC0 / public-domain
photos, each blurred by camera shake of 35, 45, 59 and 71 px from the project's kernel
generator, plus 1 % noise (the bench protocol's blur). No data folder needed.

    .venv/bin/python benchmarks/classical_bench.py ...  # the shared bench set
    .venv/bin/python benchmarks/cc0_bench.py [--photos astronaut,coffee] [--sizes 35,71]

Long shake on small photos (300-640 px) is the hard case this set is for; it was not used
to tune the engine. Prints the same table as classical_bench.py; measures, never asserts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from classical_bench import print_summary, run_case  # noqa: E402

from backend.train.data.kernels import random_kernel  # noqa: E402
from backend.train.data.protocol import protocol_blur  # noqa: E402

PHOTOS = ("astronaut", "coffee", "camera", "chelsea", "rocket", "coins")
SIZES = (35, 45, 59, 71)
SEED = 7


def photo(name: str) -> np.ndarray:
    from skimage import data

    image = getattr(data, name)().astype(np.float32) / 255
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    cols = ("blurred", "unsharp", "blind", "true_k")
    print(f"{'image':<14}{'kernel':<10}" + "".join(f"{c:>16}" for c in cols)
          + f"{'blind s/MP':>12}  engine note")
    rows = []
    for name in a.photos.split(","):
        sharp = photo(name)
        for size in sizes:
            # A pair depends only on its photo and size, so a subset reruns the same pairs.
            kernel = random_kernel(np.random.default_rng([SEED, size]), (size, size))
            r = run_case(sharp, protocol_blur(sharp, kernel, seed=size), kernel)
            rows.append(r)
            cells = "".join(f"{r[c][0]:>9.2f} /{r[c][1]:.3f}" for c in cols)
            print(f"{name:<14}{f'{size} px':<10}{cells}{r['s_per_mp']:>12.2f}  {r['guard']}",
                  flush=True)
    print_summary(rows, cols)


if __name__ == "__main__":
    main()
