"""Every malformed request gets INVALID_ARGUMENT with a message saying what is wrong, and
the same server then serves the next request normally."""

import grpc
import numpy as np
import pytest

from backend.rpc._pb import deblur_pb2 as pb
from backend.rpc._pb import deblur_pb2_grpc as pb_grpc
from backend.types import Limits

U8 = pb.PIXEL_TYPE_U8


def header(width=8, height=4, channels=3, pixel_type=U8, engine="invert", **params):
    return pb.DeblurRequest(header=pb.DeblurHeader(
        width=width, height=height, channels=channels, pixel_type=pixel_type, engine=engine,
        params=params))


def chunk(n, value=0):
    return pb.DeblurRequest(chunk=bytes([value]) * n)


def f32_chunk(values):
    return pb.DeblurRequest(chunk=np.asarray(values, "<f4").tobytes())


CASES = {
    "empty call": ([], "first message"),
    "no header": ([chunk(96)], "first message"),
    "two headers": ([header(), header()], "only one DeblurHeader"),
    "too few pixels": ([header(), chunk(95)], "ended after 95 of 96 bytes"),
    "more data after the image": ([header(), chunk(96), chunk(1)], "more pixel data"),
    "chunk too large": ([header(900, 900), chunk((1 << 20) + 1)], "exceeds the limit"),
    "zero width": ([header(width=0)], "must be positive"),
    "negative height": ([header(height=-3)], "must be positive"),
    "bad channel count": ([header(channels=5)], "channels must be"),
    "no pixel type": ([header(pixel_type=pb.PIXEL_TYPE_UNSPECIFIED)], "pixel_type"),
    "too many pixels": ([header(3000, 3000)], "at most 1000000"),
    "unknown engine": ([header(engine="magic")], "unknown engine 'magic'"),
    "unknown parameter": ([header(sharpness=2.0)], "unknown parameter 'sharpness'"),
    "gamma out of range": ([header(gamma=1.5)], "'gamma' must be in [0, 1]"),
    "gamma is NaN": ([header(gamma=float("nan"))], "'gamma' must be a finite number"),
    "fractional tile size": ([header(tile_size=32.5)], "'tile_size' must be an integer"),
    "overlap over half a tile": ([header(tile_size=32, overlap=20)], "overlap must be"),
    "NaN pixels": ([header(2, 1, 1, pb.PIXEL_TYPE_F32), f32_chunk([0.5, np.nan])],
                   "must be finite"),
}


@pytest.fixture(scope="module")
def shared_server():
    from backend.jobs.service import DeblurService
    from backend.rpc.client import DeblurClient
    from backend.server.app import DeblurServer, ServerConfig

    from ..conftest import InvertEngine  # noqa: TID252

    service = DeblurService([InvertEngine()], Limits(max_pixels=1_000_000))
    server = DeblurServer(ServerConfig(port=0), service).start()
    client = DeblurClient(server.address)
    client.wait_until_serving(10)
    yield server, client
    client.close()
    server.stop(0)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_request_is_rejected_then_server_still_serves(shared_server, name):
    server, client = shared_server
    messages, expected = CASES[name]
    with grpc.insecure_channel(server.address) as channel:
        stub = pb_grpc.DeblurStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.Deblur(iter(messages), timeout=10))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    assert expected in caught.value.details()
    image = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    np.testing.assert_array_equal(client.deblur_image(image), 255 - image)


def test_client_rejects_unsupported_arrays_before_sending(shared_server):
    from backend.errors import InvalidRequest

    _, client = shared_server
    with pytest.raises(InvalidRequest, match="unsupported pixel dtype"):
        client.deblur_image(np.zeros((4, 4, 3), np.int64))
    with pytest.raises(InvalidRequest, match="1-4 channels"):
        client.deblur_image(np.zeros((4, 4, 5), np.uint8))
