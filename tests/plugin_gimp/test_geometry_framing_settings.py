import io
import json
import sys

import pytest
from osdd_gimp.bridge_client import BridgeClient, BridgeError
from osdd_gimp.geometry import Rect, crop_rows
from osdd_gimp.settings import Settings

from osdd_framing import REPLIES, REQUESTS, FramingError, read_frame, write_frame


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


@pytest.mark.parametrize("schema,header,message", [
    (REQUESTS, {"type": "dance"}, "unknown bridge request 'dance'"),
    (REQUESTS, {"type": "deblur", "height": 4, "channels": 3, "dtype": "u8"},
     "needs 'width'"),
    (REQUESTS, {"type": "info", "autostart": "yes"}, "'autostart' .* must be bool"),
    (REQUESTS, {"type": "deblur", "width": True, "height": 4, "channels": 3, "dtype": "u8"},
     "'width' .* must be int, not True"),
    (REQUESTS, {"type": "info", "sever": "box:1"}, "has no field 'sever'"),
    (REPLIES, {"type": "tile", "x": 0, "y": 0, "width": 2}, "needs 'height'"),
    (REPLIES, {"type": "done", "engine": "e", "device": "cpu", "seconds": "1"},
     "must be int or float"),
])
def test_headers_that_break_the_declared_messages_are_refused_by_name(schema, header,
                                                                        message):
    with pytest.raises(FramingError, match=message):
        schema.check(header)


def test_the_declared_messages_take_what_each_side_sends():
    REQUESTS.check({"type": "deblur", "server": "127.0.0.1:50051", "token": None,
                    "tls_ca": None, "autostart": True, "engine": "auto", "params": {},
                    "seed": 7, "width": 4, "height": 4, "channels": 3, "dtype": "u8",
                    "keep": [0, 0, 4, 4], "bytes": 48})
    REPLIES.check({"type": "done", "engine": "classical", "device": "cpu", "seconds": 1.5})
    REPLIES.check({"type": "accepted", "bytes": 0})


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


def test_the_plug_in_refuses_a_reply_the_messages_do_not_declare():
    # A bridge of another version answering a tile without its size.
    header = json.dumps({"type": "tile", "x": 0, "y": 0, "bytes": 0}).encode()
    script = ("import sys; sys.stdin.buffer.read(1); "
              f"sys.stdout.buffer.write({len(header).to_bytes(4, 'big') + header!r}); "
              "sys.stdout.buffer.flush()")
    client = BridgeClient([sys.executable, "-c", script])
    try:
        with pytest.raises(BridgeError, match="bad answer from the bridge: .*needs 'width'"):
            list(client.request({"type": "info"}))
    finally:
        client.close()
