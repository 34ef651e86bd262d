"""A run's models from its settings: the stage model (and the discriminator for the
adapter stages) on the base weights folder, on the CPU in float32."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from ..engine.osdd.loading import load_components  # noqa: E402
from .config import TrainConfig  # noqa: E402
from .discriminator import LatentDiscriminator  # noqa: E402
from .stages import AdapterModel, EvaeModel  # noqa: E402


def build_models(config: TrainConfig) -> tuple[EvaeModel | AdapterModel,
                                                LatentDiscriminator | None]:
    torch.manual_seed(config.seed)  # the LoRA and head initialisations: runs repeat
    # No adapters from the base: each adapter trains alone on the frozen base model.
    manifest, (unet, vae, skips, scheduler, embeds) = load_components(
        Path(config.base), torch.float32, adapters=())
    if config.adapter is None:
        return EvaeModel(vae, skips, config.decoder_rank, config.latent_noise,
                         config.gradient_checkpointing), None
    disc = None
    if config.gan_weight:
        disc = LatentDiscriminator(unet, embeds, config.rank)
    model = AdapterModel(config.adapter, unet, vae, skips, scheduler, embeds,
                         manifest.timestep, config.rank, config.gradient_checkpointing)
    return model, disc


def cast_frozen(module: torch.nn.Module, dtype: torch.dtype) -> None:
    """Frozen weights in the compute dtype (half the memory), trained ones kept in
    float32 so that small updates are not rounded away."""
    for param in module.parameters():
        param.data = param.data.to(dtype if not param.requires_grad else torch.float32)
