"""`osdd eval`: run engines over paired test sets, score every output, and write the
per-image scores, the means, a table laid out like the paper's Tables 1-2, and figure
grids. Engines run in this process through DeblurService, tiling exactly as the server
does, so the numbers are those a user of the server gets."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.registry import EngineOptions, build_engines
from ..errors import ConfigError
from ..jobs.service import DeblurService
from ..types import JobSpec
from .scoring import Scorer

BLURRED = "blurred input"


@dataclass(frozen=True)
class Method:
    """An engine with fixed parameters, e.g. `osdd:gamma=0.7` or `classical`."""

    engine: str
    params: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.engine == "osdd":
            return f"osdd g={self.params.get('gamma', 1.0):g}"
        extra = ",".join(f"{k}={v:g}" for k, v in sorted(self.params.items()))
        return f"{self.engine} {extra}".strip()

    @classmethod
    def parse(cls, text: str) -> Method:
        engine, _, rest = text.partition(":")
        params = {}
        for item in filter(None, rest.split(",")):
            key, sep, value = item.partition("=")
            try:
                params[key.strip()] = float(value)
            except ValueError:
                sep = ""
            if not sep:
                raise ConfigError(f"method {text!r}: parameters are NAME=NUMBER, comma "
                                  "separated (e.g. osdd:gamma=0.7)")
        return cls(engine.strip(), params)


@dataclass
class Scores:
    dataset: str
    image: str
    method: str
    values: dict[str, float]
    seconds: float


def evaluate(datasets: list[tuple[str, object]], methods: list[Method], scorer: Scorer,
             options: EngineOptions, limit: int | None = None,
             keep: Callable[[str, str, str, np.ndarray], None] | None = None,
             echo: Callable[[str], None] = print) -> list[Scores]:
    """Score the blurred input and every method on every pair. `keep(dataset, image,
    method, output)` receives each output (for the figures)."""
    names = sorted({m.engine for m in methods})
    service = DeblurService(build_engines(names, options))
    service.load()
    offered = {e.name for e in service.info().engines}
    missing = [n for n in names if n not in offered]
    if missing:
        raise ConfigError(f"engine {missing[0]} could not be loaded (see the log above)")
    results = []
    for dataset_name, pairs in datasets:
        count = len(pairs) if limit is None else min(limit, len(pairs))
        for index in range(count):
            item = pairs[index]
            blur, sharp = _hwc(item["blur"]), _hwc(item["sharp"])
            name = str(item.get("name", index))
            results.append(Scores(dataset_name, name, BLURRED, scorer(blur, sharp), 0.0))
            if keep:
                keep(dataset_name, name, BLURRED, blur)
                keep(dataset_name, name, "sharp", sharp)
            for method in methods:
                started = time.perf_counter()
                out, _ = service.deblur(JobSpec(blur, method.engine, method.params))
                seconds = time.perf_counter() - started
                results.append(Scores(dataset_name, name, method.label, scorer(out, sharp),
                                      seconds))
                if keep:
                    keep(dataset_name, name, method.label, out)
            echo(f"{dataset_name} {index + 1}/{count} {name}: " + "; ".join(
                f"{r.method} {_short(r.values)}" for r in results[-len(methods) - 1:]))
    return results


def _hwc(image) -> np.ndarray:
    """A CHW tensor or an HWC array in [0, 1] -> contiguous float32 HWC."""
    array = image.numpy() if hasattr(image, "numpy") else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(1, 2, 0)
    return np.ascontiguousarray(array, dtype=np.float32)


def _short(values: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in values.items())


def means(results: list[Scores]) -> dict[tuple[str, str], dict[str, float]]:
    """(dataset, method) -> mean of each metric and of the seconds, in first-seen order."""
    groups: dict[tuple[str, str], list[Scores]] = {}
    for r in results:
        groups.setdefault((r.dataset, r.method), []).append(r)
    table = {}
    for key, rows in groups.items():
        metrics = {m: float(np.mean([r.values[m] for r in rows])) for m in rows[0].values}
        metrics["seconds"] = float(np.mean([r.seconds for r in rows]))
        metrics["images"] = len(rows)
        table[key] = metrics
    return table


def write_csv(results: list[Scores], path: Path) -> None:
    metrics = list(results[0].values) if results else []
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "image", "method", *metrics, "seconds"])
        for r in results:
            writer.writerow([r.dataset, r.image, r.method,
                             *(f"{r.values[m]:.6g}" for m in metrics), f"{r.seconds:.3f}"])


def write_summary(table: dict[tuple[str, str], dict[str, float]], path: Path) -> None:
    columns = list(next(iter(table.values()))) if table else []
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "method", *columns])
        for (dataset, method), row in table.items():
            writer.writerow([dataset, method, *(f"{row[c]:.6g}" for c in columns)])
