"""The settings of one training run, saved as `config.json` in the run folder so that a
resumed run continues under exactly the settings it started with."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import ConfigError
from ..files import write_text_atomically

STAGES = ("evae", "synthetic", "real")
CONFIG = "config.json"
# What a resumed run may change: how long it runs and how it reports, never what it learns.
RESUMABLE = {"steps", "save_every", "val_every", "log_every", "keep", "workers"}


@dataclass
class TrainConfig:
    """Defaults follow OSDD_MODEL.md: AdamW 5e-5, weight decay 1e-2, 500 warm-up steps,
    gradient clip 1.0, mse 1 + EA-DISTS 1 (+ adversarial 0.05 for the adapters), rank 16,
    512-px crops, batch 8."""

    stage: str
    base: str
    data: str
    val: str | None = None
    steps: int = 20000
    batch: int = 8
    crop: int = 512
    lr: float = 5e-5
    warmup: int = 500
    weight_decay: float = 1e-2
    grad_clip: float = 1.0
    accumulate: int = 1
    mse_weight: float = 1.0
    ea_dists_weight: float = 1.0
    gan_weight: float = 0.05
    disc_lr: float = 5e-5
    rank: int = 16
    decoder_rank: int = 0
    latent_noise: float = 0.05
    seed: int = 0
    mixed_precision: str = "auto"
    gradient_checkpointing: bool = False
    save_every: int = 1000
    val_every: int = 500
    val_count: int = 8
    log_every: int = 10
    keep: int = 3
    workers: int = 2
    metric_weights: str | None = None

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ConfigError(f"unknown stage {self.stage!r}; one of {', '.join(STAGES)}")
        for name in ("steps", "batch", "crop", "accumulate", "save_every", "val_every",
                     "log_every", "keep"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.crop % 64:
            raise ConfigError(f"crop must be a multiple of 64 (the model's), got {self.crop}")
        if self.mixed_precision not in ("auto", "no", "bf16", "fp16"):
            raise ConfigError(f"mixed_precision must be auto, no, bf16 or fp16, got "
                              f"{self.mixed_precision!r}")

    @property
    def adapter(self) -> str | None:
        """The adapter this run trains (None for the eVAE stage)."""
        return None if self.stage == "evae" else self.stage

    def save(self, run: Path) -> None:
        write_text_atomically(run / CONFIG, json.dumps(asdict(self), indent=2,
                                                       sort_keys=True) + "\n")

    @classmethod
    def load(cls, run: Path) -> TrainConfig:
        path = run / CONFIG
        if not path.is_file():
            raise ConfigError(f"{run} is not a training run ({CONFIG} is missing): it has "
                              "no checkpoint to resume from")
        try:
            raw = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the run's settings ({exc})") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
        return cls(**raw)

    @classmethod
    def resumed(cls, run: Path, stage: str, given: dict) -> TrainConfig:
        """The saved settings of `run` with the `given` ones that a resumed run may
        change; any other given setting that differs is an error, since it would
        silently change what is being learned."""
        saved = cls.load(Path(run))
        old = asdict(saved)
        wanted = {**old, **given, "stage": stage}
        clashes = sorted(k for k in old if k not in RESUMABLE and old[k] != wanted[k])
        if clashes:
            detail = ", ".join(f"{k}: {old[k]!r} -> {wanted[k]!r}" for k in clashes)
            raise ConfigError(f"cannot resume {run} with different settings ({detail}); "
                              "start a new run folder instead")
        return cls(**wanted)
