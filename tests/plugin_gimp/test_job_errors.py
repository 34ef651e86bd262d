"""Bad answers and failures after the first tile: the image goes back exactly as it was."""

import numpy as np
import pytest
from osdd_gimp.bridge_client import BridgeError
from osdd_gimp.host_gimp import GimpHost
from osdd_gimp.job import deblur
from osdd_gimp.settings import Settings

from .fake_gi import FakeImage

INFO = {"type": "info", "default_engine": "classical",
        "engines": [{"name": "classical", "params": [
            {"name": "tile_size", "type": "int", "minimum": 64, "maximum": 2048, "step": 64}]}]}


class ScriptedBridge:
    """Answers the info request, records the deblur request, then plays `replies`."""

    def __init__(self, replies) -> None:
        self.replies = replies
        self.requests = []

    def request(self, header, payload=b""):
        self.requests.append((header, payload))
        if header["type"] == "info":
            yield INFO, b""
            return
        for reply in self.replies:
            if isinstance(reply, Exception):
                raise reply
            yield reply


def _image(output):
    image = FakeImage()
    pixels = np.arange(200 * 150 * 3, dtype=np.uint32).astype(np.uint8).reshape(150, 200, 3)
    layer = image.add_layer(200, 150, "R'G'B' u8", pixels.tobytes())
    image.selection = (40, 30, 100, 60)
    return image, layer, GimpHost(image, layer, output), bytes(layer.buffer.data)


def _tile(x, y, w, h, value=0):
    return {"type": "tile", "x": x, "y": y, "width": w, "height": h}, bytes([value]) * (w * h * 3)


def test_the_request_carries_the_margin_and_the_region_to_keep():
    image, layer, host, _ = _image("in-place")
    bridge = ScriptedBridge([_tile(20, 20, 100, 60), ({"type": "done"}, b"")])
    deblur(host, Settings(margin=20, tile_size=256), bridge)
    header, payload = bridge.requests[1]
    assert (header["width"], header["height"], header["keep"]) == (140, 100, [20, 20, 100, 60])
    assert header["params"] == {"tile_size": 256.0} and header["engine"] == "classical"
    assert len(payload) == 140 * 100 * 3
    assert payload[:3] == bytes(layer.buffer.data[(10 * 200 + 20) * 3:(10 * 200 + 20) * 3 + 3])


@pytest.mark.parametrize("output", ["new-layer", "in-place"])
@pytest.mark.parametrize("failure,message", [
    (_tile(0, 0, 10, 10), "outside the region"),
    (({"type": "tile", "x": 64, "y": 64, "width": 10, "height": 10}, b"\0" * 7), "7 bytes"),
    (BridgeError("Unavailable", "server went away"), "server went away"),
    (RuntimeError("a bug"), "a bug"),
])
def test_failure_after_the_first_tile_restores_the_image(output, failure, message):
    image, layer, host, before = _image(output)
    bridge = ScriptedBridge([_tile(64, 64, 20, 20, 7), failure])
    with pytest.raises((BridgeError, RuntimeError), match=message):
        deblur(host, Settings(), bridge)
    assert image.layers == [layer]
    assert bytes(layer.buffer.data) == before
    assert layer.shadow is None


def test_finishing_without_tiles_is_an_error_not_a_blank_result():
    image, layer, host, before = _image("new-layer")
    with pytest.raises(BridgeError, match="without a result"):
        deblur(host, Settings(), ScriptedBridge([({"type": "done"}, b"")]))
    assert image.layers == [layer] and bytes(layer.buffer.data) == before


def test_selection_outside_the_layer_is_refused_before_any_request():
    image, layer, host, _ = _image("new-layer")
    image.selection = (500, 500, 10, 10)
    bridge = ScriptedBridge([])
    with pytest.raises(BridgeError, match="does not overlap"):
        deblur(host, Settings(), bridge)
    assert bridge.requests == []
