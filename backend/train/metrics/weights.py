"""Where the converted perceptual-metric weights live, and loading them (safetensors only).

The files are made once by scripts/convert_perceptual_weights.py, the one step that reads
the upstream pickles; everything at run time reads safetensors."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import MetricWeightsMissing

ENV_VAR = "OSDD_METRIC_WEIGHTS"
CONVERT_COMMAND = "python scripts/convert_perceptual_weights.py --out {folder}"

VGG16 = "vgg16.safetensors"
ALEXNET = "alexnet.safetensors"
LPIPS_HEADS = {"alex": "lpips_alex.safetensors", "vgg": "lpips_vgg.safetensors"}
DISTS = "dists.safetensors"
NIQE = "niqe.safetensors"
ALL_FILES = (VGG16, ALEXNET, *LPIPS_HEADS.values(), DISTS, NIQE)
MANIFEST = "manifest.json"


def metric_weights_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder to read (and the conversion's to write): the explicit argument, else
    $OSDD_METRIC_WEIGHTS, else default_cache_dir() / "perceptual". Whether it holds
    anything is checked per file on loading."""
    if explicit is None:
        explicit = os.environ.get(ENV_VAR) or default_cache_dir() / "perceptual"
    return Path(explicit).expanduser()


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/osdd, else ~/.cache/osdd: the XDG base-directory rule, under which
    an empty or relative $XDG_CACHE_HOME counts as unset."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "osdd"


def weight_file(name: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """Path of one converted file; raises MetricWeightsMissing naming it when absent."""
    folder = metric_weights_dir(weights_dir)
    path = folder / name
    if not path.is_file():
        raise MetricWeightsMissing(
            f"perceptual-metric weights file {name} not found in {folder}; create it with "
            f"`{CONVERT_COMMAND.format(folder=folder)}` (or set {ENV_VAR} to the folder "
            "that holds it)")
    return path


def load_tensors(name: str, weights_dir: str | os.PathLike | None = None) -> dict:
    """All tensors of one converted file, on the CPU."""
    from safetensors.torch import load_file

    return load_file(weight_file(name, weights_dir))


def load_arrays(name: str, weights_dir: str | os.PathLike | None = None) -> dict:
    """All tensors of one converted file as numpy arrays, for metrics that need no torch."""
    from safetensors.numpy import load_file

    return load_file(weight_file(name, weights_dir))
