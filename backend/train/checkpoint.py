"""Training checkpoints without pickles: the trained parameters and every optimizer's
tensors in safetensors files, the rest (step, optimizer hyper-parameters, learning-rate
schedulers) in JSON. Each checkpoint is written to a temporary folder and renamed into
place, so an interrupted save never leaves a half checkpoint to resume from.

    RUN/checkpoints/step-00001000/
        trained.safetensors     parameters that require grad, by module name
        optim-<part>.safetensors  optimizer state tensors, keyed "<param index>.<name>"
        state.json              step, param groups, non-tensor optimizer state, schedulers
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import ConfigError

FOLDER = "checkpoints"
PREFIX = "step-"


def checkpoint_dir(run: Path, step: int) -> Path:
    return run / FOLDER / f"{PREFIX}{step:08d}"


def checkpoints(run: Path) -> list[Path]:
    """Complete checkpoints of a run, oldest first."""
    root = run / FOLDER
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.name.startswith(PREFIX)
             and p.name[len(PREFIX):].isdigit() and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


def save(run: Path, step: int, trained: dict[str, torch.Tensor],
         optimizers: dict[str, torch.optim.Optimizer], schedulers: dict[str, object],
         keep: int) -> Path:
    final = checkpoint_dir(run, step)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in trained.items()},
              tmp / "trained.safetensors")
    state = {"step": step, "optimizers": {}, "schedulers": {}}
    for part, optimizer in optimizers.items():
        tensors, rest = _split_optimizer(optimizer.state_dict())
        save_file(tensors, tmp / f"optim-{part}.safetensors")
        state["optimizers"][part] = rest
    for part, scheduler in schedulers.items():
        state["schedulers"][part] = scheduler.state_dict()
    (tmp / "state.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in checkpoints(run)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load(folder: Path, optimizers: dict[str, torch.optim.Optimizer],
         schedulers: dict[str, object]) -> tuple[int, dict[str, torch.Tensor]]:
    """Restore optimizers and schedulers in place; returns (step, trained parameters)."""
    try:
        state = json.loads((folder / "state.json").read_text())
        trained = load_file(folder / "trained.safetensors")
        for part, optimizer in optimizers.items():
            tensors = load_file(folder / f"optim-{part}.safetensors")
            optimizer.load_state_dict(_join_optimizer(tensors, state["optimizers"][part]))
        for part, scheduler in schedulers.items():
            scheduler.load_state_dict(state["schedulers"][part])
        return int(state["step"]), trained
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"checkpoint {folder} cannot be resumed from: {exc}") from exc


def part(trained: dict[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """The parameters of one model part ("g" generator, "d" discriminator) from a
    checkpoint's trained tensors, whose names carry the part as a prefix."""
    prefix = f"{name}."
    return {k[len(prefix):]: v for k, v in trained.items() if k.startswith(prefix)}


def _split_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{name}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    per_param: dict[int, dict] = {}
    for key, value in [*tensors.items(), *rest["scalars"].items()]:
        index, name = key.split(".", 1)
        per_param.setdefault(int(index), {})[name] = value
    return {"state": per_param, "param_groups": rest["param_groups"]}
