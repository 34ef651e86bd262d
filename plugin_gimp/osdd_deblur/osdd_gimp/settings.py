"""What the user chooses in the dialog (or passes in batch mode), with sane defaults."""

from __future__ import annotations

from dataclasses import dataclass

ENGINES = ("auto", "classical", "osdd")
OUTPUTS = ("new-layer", "in-place")
DEFAULT_SERVER = "127.0.0.1:50051"


@dataclass(frozen=True)
class Settings:
    """engine: auto/classical/osdd. gamma: fidelity (1) <-> perception (0), osdd only.
    output: new-layer (above the drawable, masked by the selection) or in-place.
    tile_size: 0 = the engine's default. margin: context pixels read around the region.
    seed: -1 = none (the engine's own choice). token, tls_ca: how to reach a protected
    server; empty = the bridge's $OSDD_TOKEN / $OSDD_TLS_CA."""

    engine: str = "auto"
    gamma: float = 1.0
    output: str = "new-layer"
    tile_size: int = 0
    # The blur is estimated on all that is sent: as the project's client (DEFAULT_MARGIN in
    # backend/rpc/client.py; GIMP's Python cannot import it), enough for a small selection.
    margin: int = 256
    server: str = DEFAULT_SERVER
    autostart: bool = True
    token: str = ""
    tls_ca: str = ""
    seed: int = -1

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {', '.join(OUTPUTS)}, not {self.output!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must be between 0 and 1, not {self.gamma}")
        if self.margin < 0 or self.tile_size < 0:
            raise ValueError("margin and tile size cannot be negative")
        if self.seed < -1:
            raise ValueError(f"seed must be -1 (none) or a number from 0, not {self.seed}")
        if not self.server.strip():
            raise ValueError("the server address is empty")

    def connection(self, autostart: bool | None = None) -> dict:
        """The fields every bridge request carries to reach the server."""
        return {"server": self.server, "token": self.token, "tls_ca": self.tls_ca,
                "autostart": self.autostart if autostart is None else autostart}

    def job_fields(self) -> dict:
        """The job options besides engine and parameters that a deblur request carries."""
        return {"seed": self.seed} if self.seed >= 0 else {}

    def params_for(self, engine: dict) -> dict[str, float]:
        """The parameters to send, limited to those the engine (from GetInfo) has, each
        moved to the nearest value the engine takes (GIMP's dialog is declared before the
        server is known, so it cannot offer only those: a tile size of 1000 for an engine
        whose tiles are multiples of 64 is sent as 1024)."""
        specs = {p["name"]: p for p in engine.get("params", [])}
        wanted = {"gamma": self.gamma}
        if self.tile_size:
            wanted["tile_size"] = float(self.tile_size)
        return {k: _snap(v, specs[k]) for k, v in wanted.items() if k in specs}


def _snap(value: float, spec: dict) -> float:
    """As ParamSpec.snap in the project's backend, which GIMP's Python cannot import."""
    low, high = float(spec["minimum"]), float(spec["maximum"])
    step = float(spec.get("step") or 0)
    value = min(max(float(value), low), high)
    if step > 0:
        value = min(max(round(value / step) * step, -(-low // step) * step),
                    (high // step) * step)
    return float(round(value)) if spec.get("type") in ("int", "bool") else value
