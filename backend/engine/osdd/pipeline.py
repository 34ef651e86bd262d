"""The one-step deblurring pipeline, in the shape of a diffusers pipeline."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, DiffusionPipeline, UNet2DConditionModel

from . import evae
from .dda import DualAdapter
from .evae import EncoderSkips

MULTIPLE = 64  # the VAE's factor 8 times the UNet's three downsamplings


class OneStepDeblurPipeline(DiffusionPipeline):
    """Blurry RGB -> sharp RGB in one UNet pass (OSDD).

    encode (eVAE, keeping skip features) -> eps = UNet(z, T, empty-prompt embedding) with
    the adapters mixed by gamma -> z0 = (z - sqrt(1 - abar_T) eps) / sqrt(abar_T) ->
    decode with the skips. Components keep their own device and dtype; inputs follow them.
    """

    def __init__(self, unet: UNet2DConditionModel, vae: AutoencoderKL,
                 skips: EncoderSkips | None, scheduler: DDPMScheduler,
                 prompt_embeds: torch.Tensor, timestep: int = 399, fuse: bool = True) -> None:
        super().__init__()
        self.register_modules(unet=unet, vae=vae, skips=skips, scheduler=scheduler)
        self.register_to_config(timestep=timestep)
        if not 0 <= timestep < scheduler.config.num_train_timesteps:
            raise ValueError(f"timestep must be in [0, {scheduler.config.num_train_timesteps})"
                             f", got {timestep}")
        self.prompt_embeds = prompt_embeds
        self.adapters = DualAdapter(unet, fuse=fuse)

    def x0_from_output(self, latent: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return one_step_x0(self.scheduler, self.config.timestep, latent, output)

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """[0, 1] NCHW (padded) -> scaled latent and the eVAE's skip features."""
        return evae.encode(self.vae, image.to(self.vae.device, self.vae.dtype) * 2 - 1)

    def denoise(self, latent: torch.Tensor, gamma: float) -> torch.Tensor:
        """The one UNet pass at timestep T, adapters mixed by gamma -> clean latent."""
        self.adapters.set_gamma(gamma)  # a no-op when gamma did not change
        latent = latent.to(self.unet.device, self.unet.dtype)
        embeds = self.prompt_embeds.to(latent.device, latent.dtype).expand(len(latent), -1, -1)
        t = torch.full((len(latent),), self.config.timestep, device=latent.device)
        output = self.unet(latent, t, encoder_hidden_states=embeds).sample
        return self.x0_from_output(latent, output)

    def decode(self, latent: torch.Tensor, features: list[torch.Tensor]) -> torch.Tensor:
        """Clean latent + skip features -> float32 NCHW in [0, 1]."""
        out = evae.decode(self.vae, self.skips, latent.to(self.vae.device, self.vae.dtype),
                          features)
        return ((out.float() + 1) / 2).clamp_(0, 1)

    @torch.no_grad()
    def __call__(self, image: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
        """image: float NCHW RGB in [0, 1], any size -> the deblurred image, same shape,
        float32 in [0, 1]. gamma: fidelity (1) <-> perception (0), within the range the
        loaded adapters allow (see `self.adapters.gamma_range`)."""
        height, width = image.shape[-2:]
        # 1. Pad to the model's multiple.
        padded = pad_to_multiple(image, MULTIPLE)
        # 2. Encode, keeping the skip features.
        latent, features = self.encode(padded)
        # 3. One UNet pass at timestep T with the cached prompt embedding.
        clean = self.denoise(latent, gamma)
        # 4. Decode with the skips and crop.
        return self.decode(clean, features)[..., :height, :width]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflect-pad bottom/right to a multiple; replicate where the image is too small."""
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def one_step_x0(scheduler: DDPMScheduler, timestep: int, latent: torch.Tensor,
                output: torch.Tensor) -> torch.Tensor:
    """The clean latent from the UNet output at `timestep`, computed directly (the
    schedulers clip x0 to [-1, 1], which is wrong for latents)."""
    abar = scheduler.alphas_cumprod[timestep].item()
    a, s = abar ** 0.5, (1.0 - abar) ** 0.5
    kind = scheduler.config.prediction_type
    if kind == "epsilon":
        return (latent - s * output) / a
    if kind == "v_prediction":
        return a * latent - s * output
    if kind == "sample":
        return output
    raise ValueError(f"unsupported prediction_type {kind!r}")
