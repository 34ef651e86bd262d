"""The enhanced VAE (eVAE): SD's AutoencoderKL whose decoder also receives the encoder's
features through four bias-free 1x1 convolutions, one before each decoder up block.

The convolutions start at zero, so an untrained eVAE is exactly the plain VAE. They are a
model of their own (`EncoderSkips`, saved in `evae_skips.safetensors`), so standard SD VAE
weights load unchanged. Encoding and decoding walk the diffusers encoder/decoder blocks
explicitly rather than hooking them: no state is left on the modules between calls.
"""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn
from torch.utils.checkpoint import checkpoint


class EncoderSkips(ModelMixin, ConfigMixin):
    """One 1x1 conv per decoder up block, fed by the input of the matching encoder block.

    Decoder up block i runs at the resolution of encoder down block n-1-i; conv i maps that
    block's input channels to the up block's input channels.
    """

    @register_to_config
    def __init__(self, encoder_channels: tuple[int, ...] = (128, 128, 256, 512),
                 decoder_channels: tuple[int, ...] = (512, 512, 512, 256)) -> None:
        super().__init__()
        pairs = zip(reversed(encoder_channels), decoder_channels, strict=True)
        self.convs = nn.ModuleList(nn.Conv2d(e, d, 1, bias=False) for e, d in pairs)
        for conv in self.convs:
            nn.init.zeros_(conv.weight)

    @classmethod
    def for_vae(cls, vae: AutoencoderKL) -> EncoderSkips:
        """Zero skips shaped for this VAE's encoder and decoder."""
        channels = tuple(vae.config.block_out_channels)
        encoder_in = (channels[0], *channels[:-1])  # input channels of each down block
        up_out = tuple(reversed(channels))
        decoder_in = (up_out[0], *up_out[:-1])  # input channels of each up block
        return cls(encoder_in, decoder_in)


def _shift(vae: AutoencoderKL) -> float:
    return float(getattr(vae.config, "shift_factor", None) or 0.0)


def encode(vae: AutoencoderKL, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """image: NCHW in [-1, 1] -> (scaled latent = posterior mean, skip features).

    The skip features are the inputs of the encoder's down blocks, shallowest first.
    """
    enc = vae.encoder
    h = enc.conv_in(image)
    features = []
    for block in enc.down_blocks:
        features.append(h)
        h = block(h)
    h = enc.conv_act(enc.conv_norm_out(enc.mid_block(h)))
    h = enc.conv_out(h)
    if vae.quant_conv is not None:
        h = vae.quant_conv(h)
    mean = h.chunk(2, dim=1)[0]
    return (mean - _shift(vae)) * vae.config.scaling_factor, features


def decode(vae: AutoencoderKL, skips: EncoderSkips | None, latent: torch.Tensor,
           features: list[torch.Tensor], checkpointing: bool = False) -> torch.Tensor:
    """Scaled latent + skip features -> NCHW image, nominally in [-1, 1].

    With skips None (or all-zero skips) this equals `vae.decode` exactly. `checkpointing`
    recomputes each up block in the backward pass instead of keeping its activations
    (training: the decoder's full-resolution activations dominate memory).
    """
    z = latent / vae.config.scaling_factor + _shift(vae)
    if vae.post_quant_conv is not None:
        z = vae.post_quant_conv(z)
    dec = vae.decoder
    h = dec.conv_in(z)
    up_dtype = next(iter(dec.up_blocks.parameters())).dtype
    h = dec.mid_block(h, None).to(up_dtype)
    for i, block in enumerate(dec.up_blocks):
        if skips is not None:
            feature = features[len(features) - 1 - i]
            h = h + skips.convs[i](feature.to(h.dtype))
        if checkpointing and torch.is_grad_enabled():
            h = checkpoint(block, h, None, use_reentrant=False)
        else:
            h = block(h, None)
    h = dec.conv_act(dec.conv_norm_out(h))
    return dec.conv_out(h)
