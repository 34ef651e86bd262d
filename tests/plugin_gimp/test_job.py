"""The plug-in's run against a fake GIMP, the real bridge process and a real server
(the invert test engine: out = 1 - in, so every pasted pixel can be checked exactly)."""

import numpy as np
import pytest
from osdd_gimp.bridge_client import BridgeClient, BridgeError
from osdd_gimp.host_gimp import LAYER_NAME, GimpHost
from osdd_gimp.job import deblur
from osdd_gimp.settings import Settings

from .conftest import BRIDGE
from .fake_gi import FakeImage

SEL = (40, 30, 100, 60)


def _photo(precision="u8-non-linear", fmt="R'G'B' u8", dtype=np.uint8, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.float32:
        pixels = rng.random((150, 200, channels), dtype=np.float32)
    else:
        pixels = rng.integers(0, np.iinfo(dtype).max + 1, (150, 200, channels), dtype=dtype)
    image = FakeImage(precision)
    layer = image.add_layer(200, 150, fmt, pixels.tobytes())
    return image, layer, pixels


def _pixels(buffer, dtype, channels):
    return np.frombuffer(bytes(buffer.data), dtype).reshape(buffer.height, buffer.width,
                                                           channels)


def _inverted(pixels):
    if pixels.dtype == np.float32:
        return (1.0 - pixels).astype(np.float32)
    return np.iinfo(pixels.dtype).max - pixels


def _settings(server, **kw):
    return Settings(server=server.address, autostart=False, **kw)


def test_new_layer_gets_the_result_the_offset_and_a_mask(server, gimp_calls):
    image, layer, pixels = _photo()
    image.selection = SEL
    with BridgeClient(BRIDGE) as bridge:
        outcome = deblur(GimpHost(image, layer, "new-layer"), _settings(server), bridge)
    assert outcome.engine == "invert" and outcome.tiles >= 1
    new = image.layers[0]
    assert new.name == LAYER_NAME and new.offsets == (40, 30)
    assert (new.width, new.height) == (100, 60)
    assert new.mask == f"selection {SEL}"
    x, y, w, h = SEL
    assert np.array_equal(_pixels(new.buffer, np.uint8, 3), _inverted(pixels[y:y + h, x:x + w]))
    assert np.array_equal(_pixels(layer.buffer, np.uint8, 3), pixels)  # original untouched
    assert len(image.undo_stack) == 1
    image.undo()
    assert image.layers == [layer]
    assert any(kind == "progress" and value == 1.0 for kind, value in gimp_calls)


@pytest.mark.parametrize("precision,fmt,dtype,channels", [
    ("u8-non-linear", "R'G'B'A u8", np.uint8, 4),
    ("u16-linear", "RGB u16", np.uint16, 3),
    ("float-non-linear", "Y' float", np.float32, 1),
    ("u16-non-linear", "Y'A u16", np.uint16, 2),
])
def test_in_place_changes_only_the_selection_at_full_precision(server, precision, fmt, dtype,
                                                               channels):
    image, layer, pixels = _photo(precision, fmt, dtype, channels)
    image.selection = SEL
    with BridgeClient(BRIDGE) as bridge:
        deblur(GimpHost(image, layer, "in-place"), _settings(server, margin=16), bridge)
    expected = pixels.copy()
    x, y, w, h = SEL
    inside = _inverted(pixels[y:y + h, x:x + w])
    if channels in (2, 4):
        inside[..., -1] = pixels[y:y + h, x:x + w, -1]  # alpha is kept
    expected[y:y + h, x:x + w] = inside
    # float tiles are blended in float32, so the seams may differ in the last bit
    np.testing.assert_allclose(_pixels(layer.buffer, dtype, channels), expected, rtol=0,
                               atol=1e-6 if dtype == np.float32 else 0)
    assert len(image.undo_stack) == 1
    image.undo()
    assert np.array_equal(_pixels(layer.buffer, dtype, channels), pixels)


def test_no_selection_means_the_whole_layer(server):
    image, layer, pixels = _photo()
    with BridgeClient(BRIDGE) as bridge:
        deblur(GimpHost(image, layer, "new-layer"), _settings(server), bridge)
    new = image.layers[0]
    assert (new.width, new.height, new.offsets, new.mask) == (200, 150, (0, 0), None)
    assert np.array_equal(_pixels(new.buffer, np.uint8, 3), _inverted(pixels))


def test_server_down_leaves_the_image_untouched(unused_address):
    image, layer, pixels = _photo()
    image.selection = SEL
    settings = Settings(server=unused_address, autostart=False)
    with BridgeClient(BRIDGE) as bridge, pytest.raises(BridgeError) as caught:
        deblur(GimpHost(image, layer, "new-layer"), settings, bridge)
    assert caught.value.kind == "Unavailable"
    assert "Start one with `osdd serve`" in caught.value.message
    assert image.layers == [layer] and image.undo_stack == []
    assert np.array_equal(_pixels(layer.buffer, np.uint8, 3), pixels)


def test_an_engine_the_server_lacks_is_named(server):
    image, layer, _ = _photo()
    with BridgeClient(BRIDGE) as bridge, pytest.raises(BridgeError, match="no 'osdd' engine"):
        deblur(GimpHost(image, layer, "in-place"), _settings(server, engine="osdd"), bridge)
    assert image.undo_stack == []


def test_a_tile_size_the_engine_cannot_take_is_sent_as_one_it_can(server):
    # GIMP's dialog takes any tile size up to 4096; the server's engine, at most 2048.
    image, layer, _ = _photo()
    with BridgeClient(BRIDGE) as bridge:
        outcome = deblur(GimpHost(image, layer, "new-layer"), _settings(server, tile_size=5000),
                         bridge)
    assert outcome.tiles >= 1 and len(image.layers) == 2 and len(image.undo_stack) == 1


def test_token_and_seed_of_the_plug_in_reach_a_protected_server(start_server, monkeypatch):
    from ..conftest import InvertEngine  # noqa: TID252

    engine = InvertEngine()
    running = start_server([engine], token="s3cret")
    monkeypatch.delenv("OSDD_TOKEN", raising=False)  # the bridge may not fall back on it
    image, layer, _ = _photo()
    with BridgeClient(BRIDGE) as bridge, pytest.raises(BridgeError, match="token"):
        deblur(GimpHost(image, layer, "new-layer"), _settings(running), bridge)
    with BridgeClient(BRIDGE) as bridge:
        deblur(GimpHost(image, layer, "new-layer"),
               _settings(running, token="s3cret", seed=42), bridge)
        deblur(GimpHost(image, layer, "new-layer"), _settings(running, token="s3cret"),
               bridge)
    assert engine.seeds == [42, None]
    assert len(image.layers) == 3
