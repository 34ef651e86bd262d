"""What each training stage trains, as one `nn.Module` per stage whose parameters that
require grad are exactly the trained ones:

- `EvaeModel`: the eVAE's skip convs (+ an optional decoder LoRA). The decoder gets the
  sharp image's latent (plus a little noise) and the blurry image's skip features, since
  at test time the skips carry blurry features; target: the sharp image.
- `AdapterModel`: one LoRA adapter on the frozen UNet, the rest of the one-step pipeline
  (encoder, decoder with skips) frozen around it.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from peft import LoraConfig
from torch import nn

from ..engine.osdd import evae
from ..engine.osdd.dda import add_adapters
from ..engine.osdd.evae import EncoderSkips
from ..engine.osdd.pipeline import one_step_x0

# The decoder's layers that a decoder LoRA adapts (peft matches the full module name).
DECODER_TARGETS = r"decoder\..*(conv1|conv2|conv_shortcut|to_q|to_k|to_v|to_out\.0)"
DECODER_ADAPTER = "decoder"


def _freeze(*modules: nn.Module | None) -> None:
    for module in modules:
        if module is not None:
            module.requires_grad_(False).eval()


class EvaeModel(nn.Module):
    def __init__(self, vae: AutoencoderKL, skips: EncoderSkips | None, decoder_rank: int = 0,
                 latent_noise: float = 0.05, checkpointing: bool = False) -> None:
        super().__init__()
        _freeze(vae)
        self.vae = vae
        self.skips = (skips or EncoderSkips.for_vae(vae)).float().requires_grad_(True)
        self.latent_noise = latent_noise
        self.checkpointing = checkpointing
        if decoder_rank:
            vae.add_adapter(LoraConfig(r=decoder_rank, lora_alpha=decoder_rank,
                                       target_modules=DECODER_TARGETS,
                                       init_lora_weights="gaussian"),
                            adapter_name=DECODER_ADAPTER)
            for name, param in vae.named_parameters():
                param.requires_grad_("lora_" in name)

    def forward(self, blur: torch.Tensor, sharp: torch.Tensor, noise: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        """[0, 1] images and standard-normal latent noise -> the decoded image in [0, 1]
        (not clamped, so the MSE keeps its gradient at the range's ends)."""
        with torch.no_grad():
            latent, _ = evae.encode(self.vae, sharp * 2 - 1)
            _, features = evae.encode(self.vae, blur * 2 - 1)
        latent = latent + self.latent_noise * noise.to(latent)
        out = evae.decode(self.vae, self.skips, latent, features, self.checkpointing)
        return {"image": (out + 1) / 2}

    @torch.no_grad()
    def restore(self, blur: torch.Tensor) -> torch.Tensor:
        """Validation: what the plain encode/decode round trip of the blurry image gives
        with the current skips (the sharp latent is not known at test time)."""
        latent, features = evae.encode(self.vae, blur * 2 - 1)
        return ((evae.decode(self.vae, self.skips, latent, features) + 1) / 2).clamp(0, 1)


class AdapterModel(nn.Module):
    def __init__(self, name: str, unet: UNet2DConditionModel, vae: AutoencoderKL,
                 skips: EncoderSkips | None, scheduler: DDPMScheduler,
                 prompt_embeds: torch.Tensor, timestep: int, rank: int,
                 checkpointing: bool = False) -> None:
        super().__init__()
        _freeze(unet, vae, skips)
        self.name, self.timestep, self.scheduler = name, timestep, scheduler
        self.unet, self.vae, self.skips = unet, vae, skips
        self.register_buffer("prompt_embeds", prompt_embeds.detach().clone(), persistent=False)
        add_adapters(unet, rank, (name,))
        unet.set_adapters([name])
        for pname, param in unet.named_parameters():
            param.requires_grad_("lora_" in pname)
        self.checkpointing = checkpointing
        if checkpointing:
            unet.enable_gradient_checkpointing()
        unet.train()  # gradient checkpointing in diffusers blocks is active in train mode

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        with torch.no_grad():
            return evae.encode(self.vae, image * 2 - 1)

    def forward(self, blur: torch.Tensor) -> dict[str, torch.Tensor]:
        """Blurry [0, 1] images -> the decoded image in [0, 1] (not clamped) and z_h."""
        latent, features = self.encode(blur)
        embeds = self.prompt_embeds.to(latent).expand(len(latent), -1, -1)
        t = torch.full((len(latent),), self.timestep, device=latent.device)
        output = self.unet(latent, t, encoder_hidden_states=embeds).sample
        clean = one_step_x0(self.scheduler, self.timestep, latent, output)
        out = evae.decode(self.vae, self.skips, clean, features, self.checkpointing)
        return {"image": (out + 1) / 2, "latent": clean}

    @torch.no_grad()
    def restore(self, blur: torch.Tensor) -> torch.Tensor:
        return self(blur)["image"].clamp(0, 1)


def trainable_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """The trained parameters by name: what checkpoints hold besides optimizer state."""
    return {n: p.detach() for n, p in module.named_parameters() if p.requires_grad}


def load_trainable_state(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    params = {n: p for n, p in module.named_parameters() if p.requires_grad}
    if set(params) != set(state):
        missing = sorted(set(params) - set(state))
        extra = sorted(set(state) - set(params))
        raise ValueError(f"checkpoint does not fit the model: missing {missing[:3]}, "
                         f"unexpected {extra[:3]}")
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(state[name])
