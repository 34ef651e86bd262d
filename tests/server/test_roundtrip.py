"""A real server on port 0 and the real client: pixels, regions, tiles, info."""

import threading

import numpy as np
import pytest

from backend.types import Accepted, Done, Progress, Region, TileResult


def random_image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.float32:
        return rng.random(shape, dtype=np.float32)
    return rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def inverted(image):
    """What the invert engine gives: 1 - x on colour channels, alpha untouched."""
    out = image.copy()
    colour = slice(0, -1) if image.shape[2] in (2, 4) else slice(None)
    if image.dtype == np.float32:
        out[:, :, colour] = 1.0 - image[:, :, colour]
    else:
        out[:, :, colour] = np.iinfo(image.dtype).max - image[:, :, colour]
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_round_trip_keeps_depth_and_alpha(server, dtype, channels):
    image = random_image((45, 70, channels), dtype)
    result = server.client.deblur_image(image, params={"tile_size": 32, "overlap": 8})
    assert result.dtype == image.dtype and result.shape == image.shape
    if dtype == np.float32:
        np.testing.assert_allclose(result, inverted(image), atol=1e-6)
    else:
        np.testing.assert_array_equal(result, inverted(image))
    if channels in (2, 4):
        np.testing.assert_array_equal(result[:, :, -1], image[:, :, -1])


def test_tiles_cover_the_image_exactly_once_and_events_are_ordered(server):
    image = random_image((150, 203, 3), np.uint8)
    events = list(server.client.deblur(image, params={"tile_size": 48, "overlap": 16}))
    assert isinstance(events[0], Accepted) and events[0].queue_position == 0
    assert isinstance(events[-1], Done) and events[-1].engine == "invert"
    coverage = np.zeros(image.shape[:2], int)
    for e in events:
        if isinstance(e, TileResult):
            coverage[e.region.slices] += 1
    assert (coverage == 1).all()
    progress = [e for e in events if isinstance(e, Progress) and e.tiles_total]
    assert progress[-1].tiles_done == progress[-1].tiles_total > 1
    first_tile = next(i for i, e in enumerate(events) if isinstance(e, TileResult))
    assert first_tile < events.index(progress[-1]), "tiles must stream before the end"


def test_large_tiles_are_split_into_small_messages(start_server):
    from backend.types import Limits

    running = start_server(limits=Limits(max_chunk_bytes=4096))  # the client adapts to it
    image = random_image((100, 120, 4), np.float32)
    tiles = [e for e in running.client.deblur(image, params={"tile_size": 128, "overlap": 0})
             if isinstance(e, TileResult)]
    assert len(tiles) > 1 and all(t.pixels.nbytes <= 4096 for t in tiles)


def test_region_request_changes_only_the_region(server):
    image = random_image((80, 100, 3), np.uint8)
    region = Region(20, 10, 30, 40)
    result = server.client.deblur_image(image, region=region, margin=5)
    expected = image.copy()
    expected[region.slices] = inverted(image)[region.slices]
    np.testing.assert_array_equal(result, expected)


def test_info_lists_engines_parameters_and_limits(server):
    info = server.client.info()
    engine = info.engine("invert")
    assert info.default_engine == "invert" and engine is not None
    assert {p.name for p in engine.params} == {"gamma", "tile_size", "overlap"}
    gamma = engine.param("gamma")
    assert (gamma.minimum, gamma.maximum, gamma.default) == (0.0, 1.0, 1.0)
    assert info.limits.max_pixels == 100_000_000 and info.device == "cpu"


def test_several_clients_at_once_all_complete(server):
    from backend.rpc.client import DeblurClient

    results, errors = {}, []

    def work(i):
        try:
            with DeblurClient(server.address) as client:
                image = random_image((60, 60, 3), np.uint8, seed=i)
                results[i] = (client.deblur_image(image), image)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(results) == 5
    for out, image in results.values():
        np.testing.assert_array_equal(out, inverted(image))


def test_reflection_lists_the_services(server):
    import grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(stub.ServerReflectionInfo(iter([request]), timeout=5))
    names = {s.name for s in reply.list_services_response.service}
    assert {"osdd.v1.Deblur", "grpc.health.v1.Health"} <= names


def test_a_job_is_checked_once_at_the_edge(start_server, monkeypatch):
    from backend.jobs.service import DeblurService

    checks = []
    original = DeblurService.check

    def counted(self, spec):
        checks.append(spec.image.shape)
        return original(self, spec)

    monkeypatch.setattr(DeblurService, "check", counted)
    running = start_server()
    image = np.zeros((40, 60, 3), np.uint8)
    assert isinstance(list(running.client.deblur(image, engine="invert"))[-1], Done)
    assert checks == [(40, 60, 3)]  # before the pixels arrived; not again in the queue
