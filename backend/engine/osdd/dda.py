"""The dynamic dual adapter (DDA): two LoRA adapters on the UNet, mixed by gamma.

Every adapted layer computes `W x + gamma B_r A_r x + (1 - gamma) B_s A_s x`: "real"
(trained on real blur pairs, fidelity) and "synthetic" (trained on synthetic blur,
perception). LoRA goes through diffusers/peft: `add_adapter`, `load_lora_adapter`,
`set_adapters`, `fuse_lora`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from peft import LoraConfig

from .layout import gamma_range
from .quiet import quiet_libraries

ADAPTERS = ("real", "synthetic")
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj",
                "ff.net.2", "conv1", "conv2", "conv_shortcut")
DEFAULT_RANK = 16


def lora_config(rank: int = DEFAULT_RANK) -> LoraConfig:
    # alpha = rank: peft scales by alpha / rank, and the paper's formula has no extra factor.
    return LoraConfig(r=rank, lora_alpha=rank, target_modules=list(LORA_TARGETS),
                      init_lora_weights="gaussian")


def add_adapters(unet: UNet2DConditionModel, rank: int = DEFAULT_RANK,
                 names: tuple[str, ...] = ADAPTERS) -> None:
    """Add fresh adapters (B = 0, so they change nothing until trained)."""
    with warnings.catch_warnings():
        # Two adapters on one model is the point here, not the accident peft warns about.
        warnings.filterwarnings("ignore", message="Already found a `peft_config`")
        for name in names:
            unet.add_adapter(lora_config(rank), adapter_name=name)


def save_adapter(unet: UNet2DConditionModel, name: str, path: Path) -> None:
    """Write one adapter, with its LoRA config as metadata, to a safetensors file."""
    with quiet_libraries():  # diffusers warns about its own no-op to(dtype=None) here
        unet.save_lora_adapter(str(path.parent), adapter_name=name, weight_name=path.name,
                               safe_serialization=True)


def load_adapter(unet: UNet2DConditionModel, name: str, path: Path) -> None:
    # A file path, prefix=None and use_safetensors=True: with a folder diffusers looks for
    # a .bin, with its default prefix it silently loads nothing, and without the
    # safetensors flag it drops lora_alpha.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Already found a `peft_config`")
        unet.load_lora_adapter(str(path), adapter_name=name, prefix=None,
                               use_safetensors=True)


class DualAdapter:
    """Sets gamma on a UNet carrying any of the two adapters; fuses them into W for speed.

    With both adapters gamma is free in [0, 1]; with one it is fixed (1 for "real" alone,
    0 for "synthetic" alone), with none the UNet is the base model. Fused weights are
    rebuilt from a pristine copy of W on every change of gamma, since unfusing
    (W + d - d) does not give W back exactly.
    """

    def __init__(self, unet: UNet2DConditionModel, fuse: bool = True) -> None:
        self.unet = unet
        self.fuse = fuse
        present = set(getattr(unet, "peft_config", {}) or {})
        self.names = tuple(n for n in ADAPTERS if n in present)
        if any(getattr(m, "merged", False) for _, m, _ in self._adapted()):
            # Its pristine weights are gone; only the mixer that fused it can re-fuse it.
            raise ValueError("the UNet's adapters are already fused by another mixer")
        self._gamma: float | None = None
        self._pristine: dict[str, torch.Tensor] | None = None

    @property
    def gamma_range(self) -> tuple[float, float]:
        return gamma_range(self.names)

    def weights(self, gamma: float) -> list[float]:
        mix = {"real": gamma, "synthetic": 1.0 - gamma}
        return [mix[n] for n in self.names]

    def set_gamma(self, gamma: float) -> None:
        lo, hi = self.gamma_range
        if not lo <= gamma <= hi:
            raise ValueError(f"gamma must be in [{lo}, {hi}] for this model, got {gamma}")
        if not self.names or gamma == self._gamma:
            return
        if self.fuse and self._gamma is not None:
            self._restore()
        self.unet.set_adapters(list(self.names), weights=self.weights(gamma))
        if self.fuse:
            self._keep_pristine()
            self.unet.fuse_lora(adapter_names=list(self.names))
        self._gamma = gamma

    def _adapted(self):
        for name, module in self.unet.named_modules():
            base = getattr(module, "base_layer", None)
            if base is not None and hasattr(module, "lora_A"):
                yield name, module, base

    def _keep_pristine(self) -> None:
        # In host memory: on a GPU, device memory is the scarcer of the two.
        if self._pristine is None:
            self._pristine = {n: b.weight.detach().to("cpu", copy=True)
                              for n, _, b in self._adapted()}

    def _restore(self) -> None:
        self.unet.unfuse_lora()
        with torch.no_grad():
            for name, _, base in self._adapted():
                base.weight.copy_(self._pristine[name])  # casts if the UNet moved since
