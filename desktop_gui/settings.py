"""SettingsState: the engine and parameters to use, chosen from what the server offers."""

from __future__ import annotations

from dataclasses import dataclass

from backend.types import DEFAULT_MARGIN, EngineInfo, JobOptions, ParamSpec, ServerInfo

from .events import Listeners

# The OSDD model's gamma trades faithfulness to the input for perceptual sharpness:
# 0 is perception (the synthetic-blur adapter), 1 fidelity (the real-blur adapter).
_END_LABELS = {("osdd", "gamma"): ("perception", "fidelity")}


@dataclass(frozen=True)
class ParamControl:
    """How one engine parameter is shown: its spec and the words at the slider's ends."""

    spec: ParamSpec
    low_label: str
    high_label: str


def param_controls(engine: EngineInfo) -> list[ParamControl]:
    controls = []
    for spec in engine.params:
        low, high = _END_LABELS.get((engine.name, spec.name),
                                    (f"{spec.minimum:g}", f"{spec.maximum:g}"))
        controls.append(ParamControl(spec, low, high))
    return controls


class SettingsState:
    """The engine, its parameter values, the context margin and the seed (None: none).
    changed emits None when the engine list, the engine or any value changes; set_info()
    fills it from GetInfo."""

    def __init__(self, margin: int = DEFAULT_MARGIN) -> None:
        self.info: ServerInfo | None = None
        self.engine: str | None = None
        self.values: dict[str, float] = {}
        self.margin = margin
        self.seed: int | None = None
        self.changed: Listeners[None] = Listeners()

    @property
    def engines(self) -> list[EngineInfo]:
        return list(self.info.engines) if self.info else []

    def engine_info(self) -> EngineInfo | None:
        return self.info.engine(self.engine) if self.info and self.engine else None

    def set_info(self, info: ServerInfo) -> None:
        """Offer the engines of `info`; keep the engine and values when still offered."""
        if info == self.info:
            return
        self.info = info
        keep = self.engine is not None and info.engine(self.engine) is not None
        self._select(self.engine if keep else info.default_engine, keep_values=keep)

    def set_engine(self, name: str) -> None:
        if self.info is None or self.info.engine(name) is None:
            raise ValueError(f"the server offers no engine {name!r}")
        if name != self.engine:
            self._select(name, keep_values=False)

    def set_value(self, name: str, value: float) -> None:
        """Set a parameter, snapped to a value the server takes (ParamSpec.snap)."""
        engine = self.engine_info()
        spec = engine.param(name) if engine else None
        if spec is None:
            raise ValueError(f"engine {self.engine!r} has no parameter {name!r}")
        value = spec.snap(value)
        if self.values.get(name) != value:
            self.values[name] = value
            self.changed.emit(None)

    def set_seed(self, seed: int | None) -> None:
        """A seed from 0 for engines that use one (the same seed, the same result); None or
        a negative number: none."""
        seed = None if seed is None or seed < 0 else int(seed)
        if seed != self.seed:
            self.seed = seed
            self.changed.emit(None)

    def set_margin(self, margin: int) -> None:
        self.margin = max(0, int(margin))
        self.changed.emit(None)

    def deblur_settings(self) -> JobOptions:
        return JobOptions(self.engine or "auto", dict(self.values), self.seed, self.margin)

    def _select(self, name: str, keep_values: bool) -> None:
        self.engine = name
        engine = self.engine_info()
        defaults = {p.name: p.default for p in engine.params} if engine else {}
        if keep_values:
            defaults.update({k: v for k, v in self.values.items() if k in defaults})
        self.values = defaults
        self.changed.emit(None)
