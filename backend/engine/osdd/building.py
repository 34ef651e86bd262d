"""Random-weight OSDD models in the real weights layout: "tiny" (a few channels, for tests
and demos) and "sd21" (full Stable Diffusion 2.1-base sizes, for speed and memory
benchmarks). Their output is meaningless; the point is that they load and run through
exactly the code that real weights use."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from safetensors.torch import save_file

from ... import __version__
from . import layout
from .dda import ADAPTERS, add_adapters, save_adapter
from .evae import EncoderSkips
from .quiet import quiet_libraries

_ATTN = ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
         "DownBlock2D")
_VAE_DOWN = ("DownEncoderBlock2D",) * 4
_VAE_UP = ("UpDecoderBlock2D",) * 4

ARCHS: dict[str, dict] = {
    "tiny": {
        "unet": dict(sample_size=8, block_out_channels=(16, 32), layers_per_block=1,
                     down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                     cross_attention_dim=16, attention_head_dim=(2, 4), norm_num_groups=8,
                     use_linear_projection=True),
        "vae": dict(block_out_channels=(8, 8, 16, 16), layers_per_block=1, norm_num_groups=4,
                    latent_channels=4, sample_size=64, down_block_types=_VAE_DOWN,
                    up_block_types=_VAE_UP, scaling_factor=0.18215),
        "rank": 4,
        "text": True,
    },
    "sd21": {
        "unet": dict(sample_size=64, block_out_channels=(320, 640, 1280, 1280),
                     layers_per_block=2, down_block_types=_ATTN,
                     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                     "CrossAttnUpBlock2D"),
                     cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
                     use_linear_projection=True),
        "vae": dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2,
                    latent_channels=4, sample_size=768, down_block_types=_VAE_DOWN,
                    up_block_types=_VAE_UP, scaling_factor=0.18215),
        "rank": 16,
        "text": False,
    },
}
SCHEDULER = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012,
                 beta_schedule="scaled_linear", prediction_type="epsilon",
                 clip_sample=False, steps_offset=1)


def versions() -> dict[str, str]:
    found = {"osdd-deblur": __version__}
    for package in ("torch", "diffusers", "peft", "safetensors"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


def make_model(folder: Path, arch: str = "tiny", seed: int = 0, timestep: int = 399,
               dtype: torch.dtype = torch.float32,
               adapters: tuple[str, ...] = ADAPTERS) -> layout.Manifest:
    """Write a random-weight model of `arch` into `folder` (created; must be empty)."""
    with quiet_libraries():
        return _make_model(folder, arch, seed, timestep, dtype, adapters)


def _make_model(folder: Path, arch: str, seed: int, timestep: int, dtype: torch.dtype,
                adapters: tuple[str, ...]) -> layout.Manifest:
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    spec = ARCHS[arch]
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**spec["unet"])
    vae = AutoencoderKL(**spec["vae"])
    skips = EncoderSkips.for_vae(vae)
    for conv in skips.convs:  # non-zero, so the skip path visibly matters
        torch.nn.init.normal_(conv.weight, std=0.02)
    DDPMScheduler(**SCHEDULER).save_pretrained(folder / "scheduler")
    if spec["text"]:
        embeds = _write_tiny_text_model(folder, spec["unet"]["cross_attention_dim"])
    else:
        embeds = torch.randn(1, 77, spec["unet"]["cross_attention_dim"])
    save_file({"prompt_embeds": embeds.contiguous()}, folder / layout.PROMPT_EMBEDS)
    save_file({k: v.contiguous() for k, v in skips.state_dict().items()},
              folder / layout.EVAE_SKIPS)
    for module, sub in ((unet, "unet"), (vae, "vae")):
        if dtype != torch.float32:
            module.to(dtype)
        module.save_pretrained(folder / sub, safe_serialization=True)
    add_adapters(unet, spec["rank"], adapters)
    for name, param in unet.named_parameters():
        if "lora_B" in name:  # peft starts B at zero; random adapters must do something
            torch.nn.init.normal_(param, std=0.02)
    for name in adapters:
        save_adapter(unet, name, folder / layout.LORA_FILES[name])
    return layout.write_manifest(folder, timestep, "", f"random-{arch}", versions())


def _write_tiny_text_model(folder: Path, width: int) -> torch.Tensor:
    """A tiny CLIP text encoder + byte-level tokenizer, so the folder exercises the
    embedding computation; returns the empty prompt's embedding."""
    from transformers import CLIPTextConfig, CLIPTextModel

    from .loading import compute_prompt_embeds

    tokenizer = folder / "tokenizer"
    tokenizer.mkdir()
    symbols = [chr(c) for c in range(33, 127)]
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (tokenizer / "vocab.json").write_text(json.dumps(vocab))
    (tokenizer / "merges.txt").write_text("#version: 0.2\n")
    (tokenizer / "tokenizer_config.json").write_text(json.dumps({
        "model_max_length": 77, "tokenizer_class": "CLIPTokenizer",
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}))
    config = CLIPTextConfig(vocab_size=len(vocab), hidden_size=width, intermediate_size=2 * width,
                            num_hidden_layers=2, num_attention_heads=2,
                            max_position_embeddings=77, bos_token_id=len(vocab) - 2,
                            eos_token_id=len(vocab) - 1, pad_token_id=len(vocab) - 1)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    CLIPTextModel(config).save_pretrained(folder / "text_encoder", safe_serialization=True)
    return compute_prompt_embeds(folder, "")
