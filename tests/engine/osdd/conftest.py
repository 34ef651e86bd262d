"""Tiny random-weight OSDD models, written once per session through the real builder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    from backend.engine.osdd.building import make_model

    folder = tmp_path_factory.mktemp("osdd") / "tiny"
    make_model(folder, "tiny", seed=0)
    return folder


@pytest.fixture
def weights_copy(tiny_weights, tmp_path) -> Path:
    """A private copy of the tiny model, for tests that damage or trim it."""
    folder = tmp_path / "weights"
    shutil.copytree(tiny_weights, folder)
    return folder


def drop_files(folder: Path, *names: str) -> None:
    """Remove files from a weights folder and re-write its manifest without them."""
    from backend.engine.osdd import layout

    manifest = layout.read_manifest(folder)
    for name in names:
        (folder / name).unlink()
    layout.write_manifest(folder, manifest.timestep, manifest.prompt, manifest.base,
                          manifest.versions)


@pytest.fixture
def tiny_unet():
    """A tiny UNet with both adapters, random B so that they matter."""
    from diffusers import UNet2DConditionModel

    from backend.engine.osdd.building import ARCHS
    from backend.engine.osdd.dda import add_adapters

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**ARCHS["tiny"]["unet"])
    add_adapters(unet, rank=4)
    for name, param in unet.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.05)
    return unet.eval()
