"""Load an OSDD weights folder into a OneStepDeblurPipeline, offline and from safetensors
only, and check a folder without loading it (`verify_folder`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

# Before diffusers is imported: without it a hub id retries for ~24 s before failing.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

from ...errors import ConfigError  # noqa: E402
from . import layout  # noqa: E402
from .dda import load_adapter  # noqa: E402
from .evae import EncoderSkips  # noqa: E402
from .pipeline import OneStepDeblurPipeline  # noqa: E402

log = logging.getLogger(__name__)


def load_pipeline(folder: Path, device: str | torch.device = "cpu",
                  dtype: torch.dtype = torch.float32, fuse: bool = True,
                  channels_last: bool = False) -> OneStepDeblurPipeline:
    """Load a weights folder (see layout). Raises ConfigError naming what is wrong."""
    folder = Path(folder)
    manifest, (unet, vae, skips, scheduler, embeds) = load_components(folder, dtype)
    memory = torch.channels_last if channels_last else torch.contiguous_format
    for module in (unet, vae, skips):
        if module is not None:
            # dtype was set while loading; passing it to diffusers' to() only adds a warning
            module.to(device=device, memory_format=memory).eval()
    return OneStepDeblurPipeline(unet, vae, skips, scheduler, embeds, manifest.timestep, fuse)


def load_components(folder: Path, dtype: torch.dtype = torch.float32,
                    adapters: tuple[str, ...] = tuple(layout.LORA_FILES)):
    """The checked manifest and (unet, vae, skips or None, scheduler, prompt embedding)
    on the CPU, with those of `adapters` the folder has loaded into the UNet. Training
    loads the base this way, without the adapter it is about to train."""
    folder = Path(folder)
    manifest = layout.check_folder(folder)
    try:
        return manifest, _components(folder, manifest, dtype, adapters)
    except ConfigError:
        raise
    except Exception as exc:  # diffusers/safetensors errors name the file; keep that
        raise ConfigError(f"cannot load the OSDD weights in {folder}: {str(exc).strip()} "
                          f"(`osdd models verify {folder}` lists every problem)") from exc


def _components(folder: Path, manifest: layout.Manifest, dtype: torch.dtype,
                adapters: tuple[str, ...]):
    common = {"local_files_only": True, "use_safetensors": True, "torch_dtype": dtype}
    unet = UNet2DConditionModel.from_pretrained(folder, subfolder="unet", **common)
    vae = AutoencoderKL.from_pretrained(folder, subfolder="vae", **common)
    scheduler = DDPMScheduler.from_pretrained(folder, subfolder="scheduler",
                                              local_files_only=True)
    skips = None
    if manifest.has(layout.EVAE_SKIPS):
        skips = EncoderSkips.for_vae(vae)
        skips.load_state_dict(load_file(folder / layout.EVAE_SKIPS))
        for param in skips.parameters():  # cast in place: diffusers' to(dtype) warns
            param.data = param.data.to(dtype)
    for name, file in layout.LORA_FILES.items():
        if name in adapters and manifest.has(file):
            load_adapter(unet, name, folder / file)
    if manifest.has(layout.PROMPT_EMBEDS):
        embeds = load_file(folder / layout.PROMPT_EMBEDS)["prompt_embeds"]
    else:
        embeds = cache_prompt_embeds(folder, manifest)
    return unet, vae, skips, scheduler, embeds


def compute_prompt_embeds(folder: Path, prompt: str) -> torch.Tensor:
    """The text encoder's last hidden state for `prompt`, padded to the tokenizer's length
    (what Stable Diffusion conditions on), shape (1, tokens, width), float32."""
    from transformers import CLIPTextModel, CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer",
                                              local_files_only=True)
    encoder = CLIPTextModel.from_pretrained(folder, subfolder="text_encoder",
                                            local_files_only=True, use_safetensors=True)
    ids = tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length,
                    truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        return encoder(ids)[0].float()


def cache_prompt_embeds(folder: Path, manifest: layout.Manifest) -> torch.Tensor:
    """Compute the prompt embedding once and keep it in the folder (when writable)."""
    embeds = compute_prompt_embeds(folder, manifest.prompt)
    try:
        save_file({"prompt_embeds": embeds.contiguous()}, folder / layout.PROMPT_EMBEDS)
        layout.write_manifest(folder, manifest.timestep, manifest.prompt, manifest.base,
                              manifest.versions)
    except OSError as exc:
        log.warning("could not cache the prompt embedding in %s: %s", folder, exc)
    return embeds


def verify_folder(folder: Path) -> list[str]:
    """Everything wrong with a weights folder, without loading weights: manifest, sizes,
    hashes of every file, and tensor names/shapes against the model configs."""
    folder = Path(folder)
    manifest = layout.read_manifest(folder)
    problems = layout.file_problems(folder, manifest)
    if problems:
        return problems
    with torch.device("meta"):
        try:
            unet = UNet2DConditionModel.from_config(
                UNet2DConditionModel.load_config(folder / "unet"))
            vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
            scheduler = DDPMScheduler.from_config(DDPMScheduler.load_config(
                folder / "scheduler"))
        except Exception as exc:
            return [f"model configs: {exc}"]
        skips = EncoderSkips.for_vae(vae)
    problems += _state_problems(folder, "unet/diffusion_pytorch_model.safetensors",
                                _shapes(unet))
    problems += _state_problems(folder, "vae/diffusion_pytorch_model.safetensors",
                                _shapes(vae))
    if manifest.has(layout.EVAE_SKIPS):
        problems += _state_problems(folder, layout.EVAE_SKIPS, _shapes(skips))
    for file in layout.LORA_FILES.values():
        if manifest.has(file):
            problems += _lora_problems(folder, file, unet)
    if manifest.has(layout.PROMPT_EMBEDS):
        problems += _embeds_problems(folder, layout.PROMPT_EMBEDS,
                                     unet.config.cross_attention_dim)
    steps = scheduler.config.num_train_timesteps
    if not 0 <= manifest.timestep < steps:
        problems.append(f"{layout.MANIFEST}: timestep {manifest.timestep} is outside "
                        f"[0, {steps})")
    if scheduler.config.prediction_type not in ("epsilon", "v_prediction", "sample"):
        problems.append(f"scheduler: unsupported prediction_type "
                        f"{scheduler.config.prediction_type!r}")
    return problems


def _shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _read_shapes(folder: Path, name: str) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """Tensor shapes from a safetensors header (no data read), or the problem reading it."""
    try:
        with safe_open(str(folder / name), "pt") as f:
            return {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}, []
    except Exception as exc:
        return {}, [f"{name}: not a readable safetensors file ({exc})"]


def _state_problems(folder: Path, name: str, expected: dict[str, tuple[int, ...]]
                    ) -> list[str]:
    found, problems = _read_shapes(folder, name)
    if problems:
        return problems
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"{name}: {len(missing)} tensors missing, e.g. {missing[0]}")
    if extra:
        problems.append(f"{name}: {len(extra)} unexpected tensors, e.g. {extra[0]}")
    for key in sorted(set(found) & set(expected)):
        if found[key] != expected[key]:
            problems.append(f"{name}: {key} has shape {list(found[key])}, the config "
                            f"needs {list(expected[key])}")
    return problems


def _lora_problems(folder: Path, name: str, unet: UNet2DConditionModel) -> list[str]:
    found, problems = _read_shapes(folder, name)
    if problems:
        return problems
    modules = dict(unet.named_modules())
    ranks = set()
    for key, shape in sorted(found.items()):
        stem, sep, kind = key.rpartition(".lora_")
        module = modules.get(stem)
        if not sep or module is None:
            problems.append(f"{name}: {key} names no layer of this UNet")
            continue
        weight = module.weight.shape
        if kind == "A.weight":
            ranks.add(shape[0])
            ok = shape[1] == weight[1]
        else:
            ranks.add(shape[1])
            ok = shape[0] == weight[0]
        if not ok:
            problems.append(f"{name}: {key} has shape {list(shape)}, which does not fit "
                            f"the layer's weight {list(weight)}")
    if len(ranks) > 1:
        problems.append(f"{name}: mixed LoRA ranks {sorted(ranks)}")
    if not found:
        problems.append(f"{name}: holds no tensors")
    return problems


def _embeds_problems(folder: Path, name: str, width: int) -> list[str]:
    found, problems = _read_shapes(folder, name)
    if problems:
        return problems
    shape = found.get("prompt_embeds")
    if shape is None or len(shape) != 3 or shape[0] != 1 or shape[2] != width:
        return [f"{name}: prompt_embeds has shape {shape}, expected (1, tokens, {width})"]
    return []
