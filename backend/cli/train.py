"""`osdd train evae|synthetic|real` and `osdd train export`. Defaults follow
OSDD_MODEL.md; torch and accelerate load inside the commands, never at import."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from ..errors import ConfigError

STAGE_HELP = {
    "evae": "stage 1: the eVAE's skip convs (+ --decoder-rank LoRA) on paired data",
    "synthetic": "stage 2a: the synthetic adapter on synthetic blur (synth:DIR)",
    "real": "stage 2b: the real adapter on real blur pairs (e.g. gopro:DIR)",
}
# Settings a user sets on the command line; the rest keep TrainConfig's defaults.
OPTIONS = {
    "steps": "optimizer steps in all", "batch": "pairs per step and process",
    "crop": "training crop in px (multiple of 64)", "lr": "AdamW learning rate",
    "warmup": "linear warm-up steps", "weight_decay": "AdamW weight decay",
    "grad_clip": "gradient norm clip (0: off)", "accumulate": "micro-batches per step",
    "mse_weight": "weight of the MSE loss", "ea_dists_weight": "weight of EA-DISTS",
    "gan_weight": "weight of the adversarial loss (adapters; 0: no discriminator)",
    "disc_lr": "discriminator learning rate", "rank": "LoRA rank (adapters, discriminator)",
    "decoder_rank": "eVAE stage: decoder LoRA rank (0: skips only)",
    "latent_noise": "eVAE stage: noise added to the sharp latent",
    "seed": "seed of samples, crops, flips and noise",
    "save_every": "checkpoint every N steps", "val_every": "validate every N steps",
    "val_count": "validation pairs", "log_every": "TensorBoard every N steps",
    "keep": "checkpoints kept", "workers": "data-loader worker processes",
}


def add_commands(sub) -> None:
    from ..train.config import TrainConfig

    defaults = {f.name: f.default for f in fields(TrainConfig)}
    types = {f.name: f.type for f in fields(TrainConfig)}
    train = sub.add_parser("train", help="train the OSDD model (see README: Training)")
    stages = train.add_subparsers(required=True, metavar="STAGE")
    for stage, text in STAGE_HELP.items():
        parser = stages.add_parser(stage, help=text, description=text)
        parser.add_argument("--base", type=Path,
                            help="weights folder to start from (stage 1: SD 2.1-base's; "
                                 "then the previous stage's export/)")
        parser.add_argument("--data", help="training pairs (dataset spec, see README)")
        parser.add_argument("--val", help="validation pairs (default: the training data)")
        parser.add_argument("--out", type=Path, required=True, help="run folder")
        parser.add_argument("--resume", action="store_true",
                            help="continue the run in --out from its last checkpoint, with "
                                 "its saved settings (--steps and reporting may change)")
        parser.add_argument("--stop-after", type=int,
                            help="end this call after N more steps (resume later)")
        parser.add_argument("--mixed-precision", choices=["auto", "no", "bf16", "fp16"],
                            help="default auto: bf16 on GPUs that have it, else fp16; "
                                 "fp32 on CPUs")
        parser.add_argument("--gradient-checkpointing", action="store_true", default=None,
                            help="recompute activations in the backward pass (less memory)")
        parser.add_argument("--metric-weights", help="folder of the converted perceptual "
                                                     "weights (default: $OSDD_METRIC_WEIGHTS)")
        for name, text in OPTIONS.items():
            kind = {"int": int, "float": float}[str(types[name])]
            parser.add_argument("--" + name.replace("_", "-"), type=kind,
                                help=f"{text} (default {defaults[name]})")
        parser.set_defaults(run=_train, stage=stage)
    export = stages.add_parser("export", help="write a weights folder from a run's checkpoint")
    export.add_argument("run_dir", type=Path, help="run folder")
    export.add_argument("--out", type=Path, required=True, help="new weights folder")
    export.add_argument("--checkpoint", type=int, help="step (default: the latest)")
    export.set_defaults(run=_export)


def _require_train_extra() -> None:
    from importlib.util import find_spec

    missing = [m for m in ("torch", "diffusers", "accelerate", "tensorboard")
               if find_spec(m) is None]
    if missing:
        raise ConfigError(f"training needs {', '.join(missing)}: install the [train] extra "
                          "(pip install -e \".[train]\")")


def _train(args: argparse.Namespace) -> int:
    _require_train_extra()
    from ..train.config import TrainConfig
    from ..train.loop import train

    # Only what the user typed: on resume, everything else comes from the run's settings.
    given = {name: getattr(args, name) for name in (*OPTIONS, "val", "mixed_precision",
                                                     "gradient_checkpointing",
                                                     "metric_weights")
             if getattr(args, name) is not None}
    if args.base is not None:
        given["base"] = str(args.base.resolve())
    if args.data is not None:
        given["data"] = args.data
    if args.resume:
        config = TrainConfig.resumed(args.out, args.stage, given)
    else:
        missing = [f"--{k}" for k in ("base", "data") if k not in given]
        if missing:
            raise ConfigError(f"a new run needs {' and '.join(missing)}")
        config = TrainConfig(stage=args.stage, **given)
    out = train(config, args.out, resume=args.resume, stop_after=args.stop_after)
    if out is None:
        print(f"stopped; continue with: osdd train {args.stage} --out {args.out} --resume")
    return 0


def _export(args: argparse.Namespace) -> int:
    from ..train.export import export_checkpoint

    manifest = export_checkpoint(args.run_dir, args.out, args.checkpoint)
    print(f"wrote {args.out} ({len(manifest.files)} files); check it with "
          f"`osdd models verify {args.out}`")
    return 0
