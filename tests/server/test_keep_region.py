"""A region request: the client sends the region with context, the server estimates on all
of it and deblurs and returns only the `keep` rectangle; a small region comes out as good
as the same rectangle cut from a whole-photo result."""

import grpc
import numpy as np
import pytest

from backend.engine.classical import ClassicalEngine
from backend.errors import InvalidRequest
from backend.rpc import convert
from backend.rpc._pb import deblur_pb2_grpc as pb_grpc
from backend.train.data.kernels import random_kernel
from backend.train.data.protocol import protocol_blur
from backend.types import JobSpec, Region, TileResult
from tests.conftest import InvertEngine, sample_photo
from tests.engine.blind._helpers import psnr


def test_tiles_cover_keep_exactly_once_and_nothing_else_is_worked_on(start_server):
    engine = InvertEngine()
    running = start_server([engine])
    image = np.random.default_rng(1).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    keep = Region(150, 120, 50, 40)
    covered = np.zeros(image.shape[:2], int)
    for event in running.client.deblur(image, keep=keep, params={"tile_size": 32,
                                                                 "overlap": 8}):
        if isinstance(event, TileResult):
            covered[event.region.slices] += 1
            np.testing.assert_array_equal(event.pixels, 255 - image[event.region.slices])
    expected = np.zeros_like(covered)
    expected[keep.slices] = 1
    np.testing.assert_array_equal(covered, expected)
    # Only keep and the overlap its tiles need were deblurred: 66x56 px, at most 3x3 tiles
    # of 32 (the whole image would take 13x10).
    assert engine.tiles_run <= 9


@pytest.mark.parametrize("keep", [Region(0, 0, 0, 5), Region(390, 0, 20, 10),
                                  Region(-1, 0, 5, 5)])
def test_a_keep_outside_the_image_is_refused_before_the_pixels(start_server, keep):
    running = start_server([InvertEngine()])
    spec = JobSpec(np.zeros((300, 400, 3), np.uint8), "auto", {}, None, None, keep)
    with grpc.insecure_channel(running.address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            list(pb_grpc.DeblurStub(channel).Deblur(convert.job_messages(spec, 1 << 20)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "inside the 400x300 image" in caught.value.details()


def test_a_negative_margin_is_a_clear_error(server):
    with pytest.raises(InvalidRequest, match="margin"):
        server.client.deblur_image(np.zeros((20, 20, 3), np.uint8), region=Region(2, 2, 5, 5),
                                   margin=-5)


@pytest.mark.slow
def test_a_small_region_is_as_sharp_as_the_same_rectangle_of_the_whole_photo(start_server):
    running = start_server([ClassicalEngine()])
    sharp = sample_photo("astronaut")
    blurred = protocol_blur(sharp, random_kernel(np.random.default_rng(3), (29, 29)), seed=3)
    image = np.round(blurred * 255).astype(np.uint8)
    region = Region(200, 160, 200, 120)  # the size of the licence-plate crop users tried
    whole = running.client.deblur_image(image).astype(np.float32) / 255
    part = running.client.deblur_image(image, region=region).astype(np.float32) / 255
    truth, before = sharp[region.slices], blurred[region.slices]
    assert psnr(part[region.slices], truth) >= psnr(whole[region.slices], truth) - 0.3
    assert psnr(part[region.slices], truth) >= psnr(before, truth) + 2.0
    untouched = np.ones(image.shape[:2], bool)
    untouched[region.slices] = False
    np.testing.assert_array_equal(part[untouched], image[untouched].astype(np.float32) / 255)
