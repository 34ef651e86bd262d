"""Engines by name, so the CLI and the server pick them without if/else chains."""

from __future__ import annotations

from collections.abc import Callable

from .base import Engine


def _classical() -> Engine:
    from .classical import ClassicalEngine

    return ClassicalEngine()


ENGINES: dict[str, Callable[[], Engine]] = {"classical": _classical}


def build_engines(names: list[str] | None = None) -> list[Engine]:
    """Instantiate engines by name (all known engines when names is None). Nothing loads
    weights here: that happens in Engine.load, on the server's worker thread."""
    names = list(ENGINES) if names is None else names
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}")
    return [ENGINES[n]() for n in names]
