"""The training loop of every stage, on accelerate: one process on a CPU or GPU, or
`accelerate launch` across GPUs and machines with the same command.

Everything random in a step (samples, crops, flips, latent noise) is derived from the
run's seed and the step number, so a resumed run repeats the losses of an uninterrupted
one. The run folder holds config.json, checkpoints/, log.jsonl (one line per step and
per validation), TensorBoard logs under tb/, and export/ (a weights folder) at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState, GradientState
from torch.utils.data import DataLoader

from ..errors import ConfigError
from . import checkpoint
from .build import build_models, cast_frozen
from .config import TrainConfig
from .discriminator import discriminator_loss, generator_loss
from .export import export_weights
from .losses import ImageLoss
from .metrics import psnr
from .sampling import StepBatches, TrainSamples, validation_set
from .stages import load_trainable_state, trainable_state

LOG = "log.jsonl"
EXPORT = "export"


def prepare_run(config: TrainConfig, run: Path, resume: bool) -> TrainConfig:
    """Create the run folder, or check that a resumed one matches; the settings to use."""
    run = Path(run)
    if resume:
        if not checkpoint.checkpoints(run):
            raise ConfigError(f"{run} has no checkpoint to resume from")
        config = TrainConfig.resumed(run, config.stage, asdict(config))
    elif run.exists() and any(run.iterdir()):
        raise ConfigError(f"{run} is not empty: resume it with --resume, or choose a new "
                          "run folder")
    run.mkdir(parents=True, exist_ok=True)
    config.save(run)
    return config


def train(config: TrainConfig, run: Path, resume: bool = False,
          stop_after: int | None = None, echo: Callable[[str], None] = print) -> Path | None:
    """Run (or resume) a stage until config.steps; returns the export folder, or None when
    `stop_after` steps ended this call early (the run resumes from its checkpoint)."""
    run = Path(run)
    config = prepare_run(config, run, resume)
    accelerator = Accelerator(mixed_precision=_precision(config.mixed_precision),
                              gradient_accumulation_steps=config.accumulate,
                              log_with="tensorboard", project_dir=str(run / "tb"))
    try:
        trainer = Trainer(config, run, accelerator, echo)
        if resume:
            trainer.restore(checkpoint.checkpoints(run)[-1])
        return trainer.run(stop_after)
    finally:
        # accelerate keeps its settings process-wide, and refuses a second run in the same
        # process with another precision; the process group (partial state) stays.
        AcceleratorState._reset_state()
        GradientState._reset_state()


def training_pairs(config: TrainConfig):
    """The training dataset. Synthetic data is made at the crop size (blurring whole
    photos to crop them would waste most of the work) and as an endless stream: sample n
    is photo n mod count with its own fresh blur."""
    from .data.spec import open_dataset, parse_spec

    spec = config.data
    if parse_spec(spec)[0] == "synth" and ":length=" not in spec:
        spec = f"{spec}:length={2**40}"
    return open_dataset(spec, crop=config.crop, seed=config.seed)


def validation_pairs(config: TrainConfig):
    """Fixed validation pairs: the --val data, else the training data (synthetic data
    with its own seed, so validation does not score the samples trained on)."""
    from .data.spec import open_dataset

    return open_dataset(config.val or config.data, crop=config.crop, seed=config.seed + 1)


def _precision(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "no"


class Trainer:
    def __init__(self, config: TrainConfig, run: Path, accelerator: Accelerator,
                 echo: Callable[[str], None]) -> None:
        self.config, self.run_dir, self.acc, self.echo = config, run, accelerator, echo
        self.step = 0
        self.pairs = training_pairs(config)
        self.val_pairs = validation_pairs(config)
        model, disc = build_models(config)
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(
            accelerator.mixed_precision, torch.float32)
        for module in (model, disc):
            if module is not None:
                cast_frozen(module, dtype)
        self.loss = ImageLoss(config.mse_weight, config.ea_dists_weight,
                              config.metric_weights).to(accelerator.device).requires_grad_(False)
        self.optimizers, self.schedulers = {}, {}
        self.model = self._prepare("g", model, config.lr)
        self.disc = self._prepare("d", disc, config.disc_lr) if disc is not None else None

    def _prepare(self, part: str, module: torch.nn.Module, lr: float):
        trained = [p for p in module.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trained, lr=lr, weight_decay=self.config.weight_decay)
        warmup = self.config.warmup
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min(1.0, (s + 1) / warmup) if warmup else 1.0)
        # The scheduler stays unprepared: accelerate would step it once per process,
        # which would make the warm-up depend on the number of GPUs.
        module, optimizer = self.acc.prepare(module, optimizer)
        self.optimizers[part], self.schedulers[part] = optimizer, scheduler
        return module

    def _parts(self) -> dict[str, torch.nn.Module]:
        parts = {"g": self.acc.unwrap_model(self.model)}
        if self.disc is not None:
            parts["d"] = self.acc.unwrap_model(self.disc)
        return parts

    def _trained(self) -> dict[str, torch.Tensor]:
        return {f"{part}.{name}": value for part, module in self._parts().items()
                for name, value in trainable_state(module).items()}

    def restore(self, folder: Path) -> None:
        self.step, trained = checkpoint.load(folder, self.optimizers, self.schedulers)
        for name, module in self._parts().items():
            load_trainable_state(module, checkpoint.part(trained, name))
        if self.acc.is_main_process:
            _truncate_log(self.run_dir / LOG, self.step)
        self.echo(f"resumed {self.run_dir} at step {self.step}")

    def save(self) -> None:
        if self.acc.is_main_process:
            checkpoint.save(self.run_dir, self.step, self._trained(), self.optimizers,
                            self.schedulers, self.config.keep)
        self.acc.wait_for_everyone()

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop_after: int | None) -> Path | None:
        config, acc = self.config, self.acc
        acc.init_trackers(config.stage, config={k: v for k, v in vars(config).items()
                                                if isinstance(v, int | float | str | bool)})
        end = config.steps if stop_after is None else min(config.steps, self.step + stop_after)
        if self.step == 0:
            self.validate()
        loader = self.loader(self.step, end)
        from tqdm.auto import tqdm

        bar = tqdm(total=end, initial=self.step, disable=not acc.is_main_process,
                   desc=f"train {config.stage}", unit="step")
        sums: dict[str, float] = {}
        # False while an optimizer step may have changed the weights but self.step does
        # not count it yet: a checkpoint taken then would replay that step on resume.
        consistent = True
        try:
            for micro, batch in enumerate(loader, start=self.step * config.accumulate):
                consistent = False
                for key, value in self.micro_step(micro, batch).items():
                    sums[key] = sums.get(key, 0.0) + value / config.accumulate
                if not acc.sync_gradients:
                    consistent = True  # only gradients accumulated; resuming redoes them
                    continue
                for scheduler in self.schedulers.values():
                    scheduler.step()
                self.step += 1
                consistent = True
                self._record(sums)
                sums = {}
                bar.update(1)
                bar.set_postfix(loss=f"{self._last_loss:.4f}")
                if self.step % config.val_every == 0 or self.step == config.steps:
                    self.validate()
                if self.step % config.save_every == 0 or self.step == end:
                    self.save()
        except KeyboardInterrupt:
            # Keep what the finished steps learned; resuming replays from here exactly.
            if consistent:
                self.save()
            else:
                self.echo("interrupted inside a step: resume starts from the last checkpoint")
            raise
        finally:
            bar.close()
            acc.end_training()
        if self.step < config.steps:
            return None
        return self.export()

    def loader(self, start: int, end: int) -> DataLoader:
        config, acc = self.config, self.acc
        samples = TrainSamples(self.pairs, config.crop, config.seed)
        batches = StepBatches(start * config.accumulate, end * config.accumulate,
                              config.batch, acc.process_index, acc.num_processes)
        return DataLoader(samples, batch_sampler=batches, num_workers=config.workers,
                          pin_memory=acc.device.type == "cuda")

    def micro_step(self, micro: int, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        acc, config = self.acc, self.config
        blur = batch["blur"].to(acc.device, non_blocking=True)
        sharp = batch["sharp"].to(acc.device, non_blocking=True)
        seed = np.random.SeedSequence([config.seed, micro, acc.process_index])
        generator = torch.Generator().manual_seed(int(seed.generate_state(1)[0]))
        logs: dict[str, float] = {}
        models = [m for m in (self.model, self.disc) if m is not None]
        with acc.accumulate(*models):
            with acc.autocast():
                if config.adapter is None:
                    shape = (len(blur), 4, config.crop // 8, config.crop // 8)
                    result = self.model(blur, sharp, torch.randn(shape, generator=generator))
                else:
                    result = self.model(blur)
                terms = self.loss(result["image"], sharp)
                total = terms["loss"]
                if self.disc is not None:
                    with _no_grad_for(self.disc):
                        fake_scores = acc.unwrap_model(self.disc)(result["latent"])
                    terms["gan"] = generator_loss(fake_scores)
                    total = total + config.gan_weight * terms["gan"]
            acc.backward(total)
            self._optimizer_step("g", self.model)
            logs.update({k: v.item() for k, v in terms.items()})
            logs["loss"] = total.item()
            if self.disc is not None:
                logs["disc"] = self._disc_step(sharp, result["latent"].detach())
        return logs

    def _disc_step(self, sharp: torch.Tensor, fake: torch.Tensor) -> float:
        acc = self.acc
        with acc.autocast():
            real, _ = acc.unwrap_model(self.model).encode(sharp)
            loss = discriminator_loss(self.disc(real), self.disc(fake))
        acc.backward(loss)
        self._optimizer_step("d", self.disc)
        return loss.item()

    def _optimizer_step(self, part: str, module: torch.nn.Module) -> None:
        if self.acc.sync_gradients and self.config.grad_clip:
            self.acc.clip_grad_norm_(module.parameters(), self.config.grad_clip)
        self.optimizers[part].step()
        self.optimizers[part].zero_grad(set_to_none=True)

    def _record(self, sums: dict[str, float]) -> None:
        values = {k: self._mean_over_processes(v) for k, v in sums.items()}
        values["lr"] = self.schedulers["g"].get_last_lr()[0]
        self._last_loss = values["loss"]
        if self.step % self.config.log_every == 0 or self.step == self.config.steps:
            self.acc.log({f"train/{k}": v for k, v in values.items()}, step=self.step)
        self._append({"step": self.step, **values})

    def _mean_over_processes(self, value: float) -> float:
        if self.acc.num_processes == 1:
            return value
        tensor = torch.tensor(value, device=self.acc.device)
        return self.acc.reduce(tensor, reduction="mean").item()

    def validate(self) -> None:
        """PSNR of the stage's restoration on the fixed validation crops (main process)."""
        if self.acc.is_main_process:
            pairs = validation_set(self.val_pairs, self.config.val_count, self.config.crop)
            model = self.acc.unwrap_model(self.model)
            psnrs, inputs = [], []
            with self.acc.autocast():
                for blur, sharp in pairs:
                    out = model.restore(blur[None].to(self.acc.device)).float().cpu()
                    psnrs.append(psnr(out[0], sharp))
                    inputs.append(psnr(blur, sharp))
            entry = {"val_step": self.step, "val_psnr": sum(psnrs) / len(psnrs),
                     "val_input_psnr": sum(inputs) / len(inputs)}
            self.acc.log({"val/psnr": entry["val_psnr"]}, step=self.step)
            self._append(entry)
            self.echo(f"step {self.step}: validation PSNR {entry['val_psnr']:.2f} dB "
                      f"(blurry input {entry['val_input_psnr']:.2f} dB)")
        self.acc.wait_for_everyone()

    def export(self) -> Path:
        out = self.run_dir / EXPORT
        if self.acc.is_main_process:
            model = self.acc.unwrap_model(self.model)
            export_weights(model, self.config.stage, Path(self.config.base), out,
                           replace=True)
            self.echo(f"exported the trained model to {out}")
        self.acc.wait_for_everyone()
        return out

    def _append(self, entry: dict) -> None:
        if self.acc.is_main_process:
            with (self.run_dir / LOG).open("a") as f:
                f.write(json.dumps(entry) + "\n")


@contextmanager
def _no_grad_for(module: torch.nn.Module):
    """The generator's adversarial loss flows through the discriminator without
    touching the discriminator's own gradients."""
    trained = [p for p in module.parameters() if p.requires_grad]
    for param in trained:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param in trained:
            param.requires_grad_(True)


def _truncate_log(path: Path, step: int) -> None:
    """Drop entries written after the checkpoint being resumed from."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text().splitlines()
            if line and json.loads(line).get("step", json.loads(line).get("val_step", 0))
            <= step]
    path.write_text("".join(line + "\n" for line in kept))
