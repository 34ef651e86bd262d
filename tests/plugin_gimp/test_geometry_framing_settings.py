import io

import pytest
from osdd_gimp.geometry import Rect, crop_rows
from osdd_gimp.settings import Settings

from osdd_framing import FramingError, read_frame, write_frame


def test_margin_grows_within_the_drawable():
    bounds = Rect(0, 0, 200, 150)
    assert Rect(40, 30, 100, 60).grow(64, bounds) == Rect(0, 0, 200, 150)
    assert Rect(100, 80, 20, 10).grow(16, bounds) == Rect(84, 64, 52, 42)
    assert Rect(190, 140, 10, 10).grow(8, bounds) == Rect(182, 132, 18, 18)
    assert Rect(10, 10, 5, 5).grow(0, bounds) == Rect(10, 10, 5, 5)


def test_intersections_and_relative_coordinates():
    assert Rect(0, 0, 10, 10).intersect(Rect(5, 5, 10, 10)) == Rect(5, 5, 5, 5)
    assert Rect(0, 0, 10, 10).intersect(Rect(20, 20, 5, 5)).is_empty()
    assert Rect(84, 64, 52, 42).relative_to(Rect(80, 60, 0, 0)) == Rect(4, 4, 52, 42)


def test_crop_rows_takes_the_inner_rectangle():
    width, bpp = 4, 2
    data = bytes(range(4 * 3 * bpp))
    inner = crop_rows(data, width, bpp, Rect(1, 1, 2, 2))
    assert inner == bytes([10, 11, 12, 13, 18, 19, 20, 21])


def test_frames_round_trip_and_end_cleanly():
    stream = io.BytesIO()
    write_frame(stream, {"type": "tile", "x": 3}, b"\x00\x01\x02")
    write_frame(stream, {"type": "done"})
    stream.seek(0)
    assert read_frame(stream) == ({"type": "tile", "x": 3, "bytes": 3}, b"\x00\x01\x02")
    assert read_frame(stream) == ({"type": "done", "bytes": 0}, b"")
    assert read_frame(stream) is None


@pytest.mark.parametrize("raw,message", [
    (b"\x00\x00\x00\x05{\"a\"", "stream closed"),
    (b"\x00\x00\x00\x02[]", "must be an object"),
    (b"\x00\x00\x00\x03abc", "not JSON"),
    (b"\xff\xff\xff\xff", "bad frame header length"),
    (b"\x00\x00\x00\x1b{\"type\":\"tile\",\"bytes\":100}xx", "stream closed"),
])
def test_broken_frames_are_errors(raw, message):
    with pytest.raises(FramingError, match=message):
        read_frame(io.BytesIO(raw))


def test_settings_are_checked_and_params_follow_the_engine():
    with pytest.raises(ValueError, match="gamma must be between 0 and 1"):
        Settings(gamma=1.5).check()
    with pytest.raises(ValueError, match="output must be one of"):
        Settings(output="sideways").check()
    tiles = {"name": "tile_size", "type": "int", "minimum": 64, "maximum": 2048, "step": 64}
    gamma = {"name": "gamma", "type": "float", "minimum": 0.0, "maximum": 1.0, "step": 0}
    osdd = {"params": [gamma, tiles, {"name": "overlap"}]}
    classical = {"params": [{"name": "strength"}, tiles]}
    assert Settings(gamma=0.7).params_for(osdd) == {"gamma": 0.7}
    assert Settings(gamma=0.7, tile_size=256).params_for(classical) == {"tile_size": 256.0}
    # Values the server would refuse are moved to the nearest it takes.
    assert Settings(tile_size=1000).params_for(classical) == {"tile_size": 1024.0}
    assert Settings(tile_size=4000).params_for(classical) == {"tile_size": 2048.0}
    assert Settings(tile_size=10).params_for(classical) == {"tile_size": 64.0}
