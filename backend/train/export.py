"""A trained stage -> a weights folder in the engine's layout: the base folder's files
(hard-linked where the file system allows, the UNet alone is 3.5 GB) with what the stage
trained written over them, and a fresh manifest hashing every file. The server and
`osdd models verify` take the result as it is, and the next stage can use it as its base.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..engine.osdd import layout
from ..engine.osdd.building import versions
from ..engine.osdd.dda import save_adapter
from ..errors import ConfigError
from .stages import DECODER_ADAPTER, AdapterModel, EvaeModel


def export_weights(model: EvaeModel | AdapterModel, stage: str, base: Path, out: Path,
                   replace: bool = False) -> layout.Manifest:
    base, out = Path(base), Path(out)
    base_manifest = layout.check_folder(base)
    if out.exists() and any(out.iterdir()) and not replace:
        raise ConfigError(f"{out} is not empty; choose a new folder for the export")
    tmp = out.with_name(out.name + ".exporting")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    written = _write_trained(model, tmp)
    for name in base_manifest.files:
        if name not in written:
            _link_or_copy(base / name, tmp / name)
    manifest = layout.write_manifest(tmp, base_manifest.timestep, base_manifest.prompt,
                                     f"{base_manifest.base} + {stage}".strip(" +"),
                                     versions())
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return manifest


def _write_trained(model: EvaeModel | AdapterModel, folder: Path) -> set[str]:
    """Write the stage's own files; returns their names in the layout."""
    if isinstance(model, AdapterModel):
        save_adapter(model.unet, model.name, folder / layout.LORA_FILES[model.name])
        return {layout.LORA_FILES[model.name]}
    from safetensors.torch import save_file

    save_file({k: v.detach().float().cpu().contiguous()
               for k, v in model.skips.state_dict().items()}, folder / layout.EVAE_SKIPS)
    written = {layout.EVAE_SKIPS}
    if DECODER_ADAPTER in (getattr(model.vae, "peft_config", None) or {}):
        # The engine loads a plain VAE: fold the decoder LoRA into a copy of its weights.
        import copy

        vae = copy.deepcopy(model.vae)
        vae.fuse_lora(adapter_names=[DECODER_ADAPTER])
        vae.unload_lora()
        vae.save_pretrained(folder / "vae", safe_serialization=True)
        written |= {p.relative_to(folder).as_posix() for p in (folder / "vae").iterdir()}
    return written


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def export_checkpoint(run: Path, out: Path, step: int | None = None) -> layout.Manifest:
    """A weights folder from one of a run's checkpoints (default: the latest)."""
    from . import checkpoint
    from .build import build_models
    from .config import TrainConfig
    from .stages import load_trainable_state

    run = Path(run)
    config = TrainConfig.load(run)
    found = checkpoint.checkpoints(run)
    if step is not None:
        found = [p for p in found if p == checkpoint.checkpoint_dir(run, step)]
    if not found:
        raise ConfigError(f"{run} has no checkpoint" + (f" at step {step}" if step else ""))
    _, trained = checkpoint.load(found[-1], {}, {})
    model, _ = build_models(config)
    load_trainable_state(model, checkpoint.part(trained, "g"))
    return export_weights(model, config.stage, Path(config.base), out)
