"""The metrics of `osdd eval`: PSNR and SSIM always, the learned ones and NIQE when their
converted weights are on this machine. Asked for by name, a metric whose weights are
missing is an error naming the file; under "auto" it is left out with that same message
shown. NIQE is no-reference: it scores the output alone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConfigError, OsddError

FULL_REFERENCE = ("psnr", "ssim", "lpips", "dists")
NO_REFERENCE = ("niqe",)
# No-reference metrics the paper reports that have no offline implementation here yet.
NOT_AVAILABLE = {
    "musiq": "MUSIQ is not implemented in this version (its weights exist only as a "
             "pickled PyTorch download)",
    "maniqa": "MANIQA is not implemented in this version (its weights exist only as a "
              "pickled PyTorch download)",
    "clipiqa": "CLIPIQA is not implemented in this version (it needs CLIP weights and "
               "its prompt pairs)",
}
ALL = FULL_REFERENCE + NO_REFERENCE + tuple(NOT_AVAILABLE)


class Scorer:
    """scorer(output, sharp) -> {metric: value} for HWC float32 images in [0, 1]."""

    def __init__(self, names: list[str] | None = None, weights_dir: str | None = None,
                 device: str = "cpu", echo: Callable[[str], None] = print) -> None:
        wanted = list(ALL) if not names or names == ["auto"] else names
        explicit = bool(names) and names != ["auto"]
        unknown = [n for n in wanted if n not in ALL]
        if unknown:
            raise ConfigError(f"unknown metric {unknown[0]!r}; known: {', '.join(ALL)}")
        self.device = device
        self.echo = echo
        self.metrics: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {}
        for name in wanted:
            try:
                self.metrics[name] = self._build(name, weights_dir)
            except OsddError as exc:
                if explicit:
                    raise
                echo(f"{name}: left out: {exc}")

    def _build(self, name: str, weights_dir: str | None):
        from . import metrics

        if name == "psnr":
            return metrics.psnr
        if name == "ssim":
            return metrics.ssim
        if name in NOT_AVAILABLE:
            raise ConfigError(NOT_AVAILABLE[name])
        if name == "niqe":
            return self._niqe(weights_dir)
        import torch

        module = (metrics.LPIPS("alex", weights_dir) if name == "lpips"
                  else metrics.DISTS(weights_dir)).to(self.device).eval()

        def score(out: np.ndarray, sharp: np.ndarray) -> float:
            x, y = (torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]
                    .to(self.device) for a in (out, sharp))
            with torch.no_grad():
                return float(module(x, y)[0])

        return score

    def _niqe(self, weights_dir: str | None):
        from .metrics import niqe, weights

        weights.weight_file(weights.NIQE, weights_dir)  # missing: the error names the file

        def score(out: np.ndarray, sharp: np.ndarray) -> float:
            try:
                return niqe(out, weights_dir)
            except ValueError as exc:  # too small or flat to fit: no value, not a failure
                self.echo(f"niqe: {exc}; recorded as NaN")
                return float("nan")

        return score

    def __call__(self, out: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
        if out.ndim == 2 or out.shape[-1] == 1:
            out, sharp = (np.repeat(a.reshape(*a.shape[:2], 1), 3, axis=2)
                          for a in (out, sharp))
        return {name: float(fn(out, sharp)) for name, fn in self.metrics.items()}
