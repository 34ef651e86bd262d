"""The latent discriminator of the adapter stage: a copy of the UNet's input conv, down
blocks and mid block (frozen, with its own LoRA) and a per-location MLP giving a score
map. It judges clean latents: z_h from the generator (fake) against the sharp image's
latent from the frozen encoder (real), with the non-saturating loss."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from diffusers import UNet2DConditionModel
from peft import inject_adapter_in_model
from torch import nn

from ..engine.osdd.dda import lora_config

HIDDEN = 256


class LatentDiscriminator(nn.Module):
    def __init__(self, unet: UNet2DConditionModel, prompt_embeds: torch.Tensor,
                 rank: int) -> None:
        """`unet` must not carry adapters yet: the copy starts from the base weights."""
        super().__init__()
        if getattr(unet, "peft_config", None):
            raise ValueError("build the discriminator before adding adapters to the UNet")
        self.backbone = nn.ModuleDict({
            "conv_in": copy.deepcopy(unet.conv_in),
            "time_proj": copy.deepcopy(unet.time_proj),
            "time_embedding": copy.deepcopy(unet.time_embedding),
            "down": copy.deepcopy(unet.down_blocks),
        })
        if unet.mid_block is not None:
            self.backbone["mid"] = copy.deepcopy(unet.mid_block)
        self.register_buffer("prompt_embeds", prompt_embeds.detach().clone(), persistent=False)
        inject_adapter_in_model(lora_config(rank), self.backbone, adapter_name="disc")
        width = unet.config.block_out_channels[-1]
        self.head = nn.Sequential(nn.Conv2d(width, HIDDEN, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(HIDDEN, 1, 1))
        for name, param in self.named_parameters():
            param.requires_grad_(name.startswith("head.") or "lora_" in name)

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        """(N, 4, h, w) clean latents -> (N, 1, h', w') realness scores (logits)."""
        b = self.backbone
        # Clean latents: the time embedding of t = 0.
        t = torch.zeros(len(latent), device=latent.device)
        temb = b["time_embedding"](b["time_proj"](t).to(latent.dtype))
        context = self.prompt_embeds.to(latent.device, latent.dtype).expand(len(latent), -1, -1)
        h = b["conv_in"](latent)
        for block in b["down"]:
            if getattr(block, "has_cross_attention", False):
                h, _ = block(h, temb, encoder_hidden_states=context)
            else:
                h, _ = block(h, temb)
        if "mid" in b:
            h = b["mid"](h, temb, encoder_hidden_states=context)
        return self.head(h)


def discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()


def generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Non-saturating: the generator raises log D(fake) rather than lowering
    log(1 - D(fake)), which has no gradient while D wins easily."""
    return F.softplus(-fake_scores).mean()
