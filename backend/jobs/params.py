"""Checking a job's engine parameters against the engine's ParamSpecs."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InvalidRequest
from ..types import EngineInfo


def resolve_params(info: EngineInfo, given: Mapping[str, float]) -> dict[str, float]:
    """Every parameter of the engine, given values validated, defaults for the rest.

    Raises InvalidRequest naming the parameter for unknown names, non-finite values,
    values out of range and non-integral values of integer parameters."""
    known = {p.name: p for p in info.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidRequest(f"unknown parameter {unknown[0]!r} for engine {info.name!r}; "
                             f"known: {', '.join(sorted(known))}")
    resolved: dict[str, float] = {}
    for name, spec in known.items():
        value = float(given.get(name, spec.default))
        if not math.isfinite(value):
            raise InvalidRequest(f"parameter {name!r} must be a finite number, got {value}")
        if not spec.minimum <= value <= spec.maximum:
            raise InvalidRequest(f"parameter {name!r} must be in [{spec.minimum:g}, "
                                 f"{spec.maximum:g}], got {value:g}")
        if spec.type in ("int", "bool") and value != int(value):
            raise InvalidRequest(f"parameter {name!r} must be an integer, got {value:g}")
        if spec.step > 0 and value % spec.step:
            raise InvalidRequest(f"parameter {name!r} must be a multiple of {spec.step:g}, "
                                 f"got {value:g}")
        resolved[name] = int(value) if spec.type in ("int", "bool") else value
    return resolved
