"""The Levin et al. 2009 benchmark (32 photos blurred by real, measured hand shake), scored
up to shift as its authors do.

    .venv/bin/python benchmarks/levin_bench.py --data DIR [--images 1,3] [--kernels 2,5]

DIR holds im1..im4.png, kernel1..kernel8.png and im{i}_kernel{j}_img.png (the benchmark's
files; SelfDeblur's repository has them under datasets/levin). The data is research data:
the project does not ship it. Prints, per photo, PSNR / SSIM of the blurred input, of the
engine run exactly as the server runs it (blind), and of its deconvolution given the true
kernel, plus the blind error ratio (blind error / true-kernel error); then the means beside
the published rows. It measures and prints; it does not pass/fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import signal

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from backend.engine.blind import BlurEstimate, deconvolve  # noqa: E402
from backend.engine.classical import ClassicalEngine  # noqa: E402
from backend.jobs.service import DeblurService  # noqa: E402
from backend.train.metrics.upto_shift import score_upto_shift  # noqa: E402
from backend.types import JobSpec  # noqa: E402

SERVICE = DeblurService([ClassicalEngine()])
#: As tabulated by Ren et al. (CVPR 2020, Table 1): mean PSNR dB on the 32 photos.
PUBLISHED = [("Krishnan et al. 2011", 29.9), ("Cho & Lee 2009", 30.6),
             ("Levin et al. 2011", 30.8), ("Xu & Jia 2010", 31.7),
             ("Pan et al. 2016 (dark channel)", 32.7), ("Sun et al. 2013", 33.0),
             ("SelfDeblur 2020", 33.1), ("known kernel", 34.5)]


def grey(path: Path) -> np.ndarray:
    if not path.is_file():
        sys.exit(f"{path} is missing: --data must be the Levin benchmark folder "
                 "(im1.png, kernel1.png, im1_kernel1_img.png, ...)")
    return np.asarray(Image.open(path).convert("L"), np.float32) / 255.0


def oriented_kernel(data: Path, j: int, images: list[int]) -> np.ndarray:
    """kernel{j} in the orientation that blurs the sharp photos into the observed ones.

    The files do not say which way round a kernel is stored, and it differs between them;
    the one whose blur of the truth best matches the observations (up to a few pixels of
    registration) is the convention of the data, not a choice of the method."""
    k = grey(data / f"kernel{j}.png").astype(np.float64)
    k /= k.sum()

    def misfit(kk: np.ndarray) -> float:
        total = 0.0
        for i in images:
            sharp, blurred = grey(data / f"im{i}.png"), grey(data / f"im{i}_kernel{j}_img.png")
            b = signal.fftconvolve(np.pad(sharp, kk.shape[0] // 2, mode="symmetric"), kk,
                                   "valid")
            c = np.s_[20:-20, 20:-20]
            total += min(float(((np.roll(b, (dy, dx), (0, 1))[c] - blurred[c]) ** 2).mean())
                         for dy in range(-8, 9) for dx in range(-8, 9))
        return total

    return min((k, k[::-1, ::-1]), key=misfit).astype(np.float32)


def restore(blurred: np.ndarray) -> tuple[np.ndarray, str]:
    out, note = SERVICE.deblur(JobSpec(blurred[..., None], "classical", {}))
    return out[..., 0], note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the Levin benchmark folder")
    ap.add_argument("--images", default="1,2,3,4")
    ap.add_argument("--kernels", default="1,2,3,4,5,6,7,8")
    a = ap.parse_args()
    images = [int(v) for v in a.images.split(",")]
    kernels = {j: oriented_kernel(a.data, j, images) for j in
               (int(v) for v in a.kernels.split(","))}
    print(f"{'photo':<14}{'size':>5}{'blurred':>16}{'blind':>16}{'true kernel':>16}"
          f"{'ratio':>7}{'s':>6}  engine note")
    rows = []
    for i in images:
        sharp = grey(a.data / f"im{i}.png")
        for j, k in kernels.items():
            blurred = grey(a.data / f"im{i}_kernel{j}_img.png")
            t = time.perf_counter()
            blind, note = restore(blurred)
            dt = time.perf_counter() - t
            truth = deconvolve(blurred, BlurEstimate(kernel=k, confident=True))
            r = {"blurred": score_upto_shift(blurred, sharp),
                 "blind": score_upto_shift(blind, sharp),
                 "true_k": score_upto_shift(truth, sharp)}
            ratio = r["blind"].sse / max(r["true_k"].sse, 1e-12)
            rows.append((r, ratio))
            cells = "".join(f"{r[c].psnr:>9.2f} /{r[c].ssim:.3f}" for c in r)
            print(f"im{i}_kernel{j:<6}{k.shape[0]:>5}{cells}{ratio:>7.2f}{dt:>6.1f}  {note}",
                  flush=True)
    mean = "".join(f"{np.mean([r[c].psnr for r, _ in rows]):>9.2f} /"
                   f"{np.mean([r[c].ssim for r, _ in rows]):.3f}" for c in rows[0][0])
    ratios = np.array([q for _, q in rows])
    print(f"{'mean':<19}{mean}")
    worse = sum(r["blind"].psnr < r["blurred"].psnr or r["blind"].ssim < r["blurred"].ssim
                for r, _ in rows)
    print(f"error ratio <= 2: {np.mean(ratios <= 2):.0%}, <= 3: {np.mean(ratios <= 3):.0%}; "
          f"photos worse than blurred (PSNR or SSIM): {worse} of {len(rows)}")
    print("published means (PSNR dB): " + "; ".join(f"{n} {v}" for n, v in PUBLISHED))


if __name__ == "__main__":
    main()
