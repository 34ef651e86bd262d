"""Parameter specs say which values are valid (range, integrality, step); the server refuses
the rest by name, and ParamSpec.snap gives front ends the nearest valid value."""

import pytest

from backend.errors import InvalidRequest
from backend.jobs.params import resolve_params
from backend.types import EngineInfo, ParamSpec

TILES = ParamSpec("tile_size", "int", 512, 64, 2048, "tile side", step=64)
STRENGTH = ParamSpec("strength", "float", 0.5, 0.0, 1.0, "how hard")
INFO = EngineInfo("test", "", "cpu", (TILES, STRENGTH))


def test_values_off_the_step_are_refused_by_name():
    assert resolve_params(INFO, {"tile_size": 1024}) == {"tile_size": 1024, "strength": 0.5}
    with pytest.raises(InvalidRequest, match="'tile_size' must be a multiple of 64, got 1000"):
        resolve_params(INFO, {"tile_size": 1000})


@pytest.mark.parametrize("spec,given,valid", [
    (TILES, 1000, 1024), (TILES, 990, 960), (TILES, 5000, 2048), (TILES, 10, 64),
    (ParamSpec("n", "int", 3, 3, 75, "", step=2), 4.2, 4),  # multiples of 2 in [3, 75]
    (ParamSpec("n", "int", 3, 3, 75, "", step=2), 80, 74),
    (STRENGTH, 0.337, 0.337), (STRENGTH, -1, 0.0),
    (ParamSpec("flag", "bool", 0, 0, 1, ""), 0.7, 1.0),
])
def test_snap_gives_the_nearest_value_the_server_takes(spec, given, valid):
    value = spec.snap(given)
    assert value == valid
    info = EngineInfo("test", "", "cpu", (spec,))
    assert resolve_params(info, {spec.name: value})[spec.name] == valid
