"""Engines by name, so the CLI and the server pick them without if/else chains."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from .base import Engine


@dataclass(frozen=True)
class EngineOptions:
    """What engines may need to be built: the OSDD weights folder and device choices."""

    weights: Path | None = None
    device: str = "auto"
    dtype: str = "auto"
    fuse: bool = True


def _classical(options: EngineOptions) -> Engine:
    from .classical import ClassicalEngine

    return ClassicalEngine()


def _osdd(options: EngineOptions) -> Engine:
    if options.weights is None:
        raise ConfigError("the osdd engine needs weights: pass --weights DIR (a folder made "
                          "by training, or `osdd models make-tiny DIR` for a test model)")
    from .osdd.engine import OsddEngine

    return OsddEngine(options.weights, options.device, options.dtype, options.fuse)


ENGINES: dict[str, Callable[[EngineOptions], Engine]] = {"osdd": _osdd, "classical": _classical}


def auto_engines(options: EngineOptions) -> list[str]:
    """The default set: osdd first (the default engine) when weights are given, and the
    classical engine always."""
    return ["osdd", "classical"] if options.weights is not None else ["classical"]


def build_engines(names: list[str] | None = None,
                  options: EngineOptions | None = None) -> list[Engine]:
    """Instantiate engines by name ("auto" or None: see auto_engines). Nothing loads
    weights here: that happens in Engine.load, on the server's worker thread."""
    options = options or EngineOptions()
    if not names or names == ["auto"]:
        names = auto_engines(options)
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise ConfigError(f"unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}, auto")
    return [ENGINES[n](options) for n in names]
