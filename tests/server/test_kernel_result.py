"""The blur kernel is part of the result: the classical engine sends the kernel it removed
in Done, `osdd deblur --kernel-out` saves it, and a client can hand a kernel back for
non-blind deblurring, which then equals deconvolution with that kernel."""

import os
from pathlib import Path

import grpc
import numpy as np
import pytest

from backend.blur_kernel import checked_kernel, kernel_from_pixels
from backend.cli import main
from backend.engine.blind import BlurEstimate, deconvolve, prior_noise
from backend.engine.blind.guard import agreement
from backend.engine.classical import ClassicalEngine
from backend.errors import InvalidRequest
from backend.images import read_image, write_image
from backend.rpc import convert
from backend.rpc._pb import deblur_pb2 as pb
from backend.rpc._pb import deblur_pb2_grpc as pb_grpc
from backend.train.data.protocol import protocol_blur
from backend.types import Done, JobSpec
from tests.conftest import InvertEngine
from tests.engine.blind._helpers import shapes_photo


def _line_kernel(length: int = 11) -> np.ndarray:
    k = np.zeros((length, length), np.float32)
    k[length // 2, :] = 1.0
    k[length // 2 + 1, length // 2:] = 0.5  # not symmetric, so a flip would show
    return k / k.sum()


@pytest.fixture(scope="module")
def blurred():
    sharp = np.repeat(shapes_photo(192, seed=5)[..., None], 3, axis=2)
    kernel = _line_kernel()
    return sharp, kernel, protocol_blur(sharp, kernel, seed=1, noise=0.002)


def _done(events) -> Done:
    done = [e for e in events if isinstance(e, Done)]
    assert len(done) == 1
    return done[0]


def test_done_carries_the_kernel_the_engine_estimated(start_server, blurred):
    _, truth, image = blurred
    running = start_server([ClassicalEngine()])
    events = list(running.client.deblur(image, params={"kernel_size": 21}))
    kernel = _done(events).kernel
    assert kernel is not None and kernel.dtype == np.float32
    assert kernel.shape[0] == kernel.shape[1] and kernel.shape[0] % 2 == 1
    assert kernel.sum() == pytest.approx(1.0, abs=1e-4)
    assert agreement(kernel, truth) >= 0.8


def test_non_blind_mode_equals_deconvolution_with_that_kernel(start_server, blurred):
    _, truth, image = blurred
    running = start_server([ClassicalEngine()])
    events = list(running.client.deblur(image, kernel=truth * 3.0,  # any scale: normalised
                                        params={"strength": 0.7}))
    out = np.empty_like(image)
    for event in events:
        if hasattr(event, "region"):
            out[event.region.slices] = event.pixels
    expected = deconvolve(image, BlurEstimate(kernel=truth, confident=True), 0.7,
                          prior_noise(image))
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(_done(events).kernel, truth, atol=1e-7)


def test_an_engine_without_kernels_refuses_one(start_server, blurred):
    running = start_server([InvertEngine()])
    with pytest.raises(InvalidRequest, match="does not take a blur kernel"):
        list(running.client.deblur(blurred[2], kernel=_line_kernel()))
    assert running.client.health() == "SERVING"


@pytest.mark.parametrize("kernel,message", [
    (np.ones((4, 4)), "odd side"),
    (np.ones((3, 5)), "square"),
    (-np.ones((3, 3)), "non-negative"),
    (np.zeros((5, 5)), "all zero"),
    (np.full((3, 3), np.nan), "finite"),
])
def test_a_bad_kernel_is_refused_with_a_reason(kernel, message):
    with pytest.raises(InvalidRequest, match=message):
        checked_kernel(kernel)


def test_the_server_refuses_a_bad_kernel_before_the_pixels(start_server, blurred):
    """A client that skips the client-side check still gets a clear INVALID_ARGUMENT."""
    running = start_server([ClassicalEngine()])
    spec = JobSpec(blurred[2], "classical", {}, None, np.full((4, 4), 1 / 16, np.float32))
    messages = convert.job_messages(spec, 1 << 20)
    with grpc.insecure_channel(running.address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            list(pb_grpc.DeblurStub(channel).Deblur(messages))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "odd side" in caught.value.details()
    truncated = pb.DeblurHeader(width=4, height=4, channels=1, pixel_type=pb.PIXEL_TYPE_U8,
                                kernel=pb.Kernel(size=3, values=b"\0" * 8))
    with grpc.insecure_channel(running.address) as channel:
        with pytest.raises(grpc.RpcError) as caught:
            list(pb_grpc.DeblurStub(channel).Deblur(iter([pb.DeblurRequest(header=truncated)])))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "needs 36 bytes" in caught.value.details()


def test_kernel_out_saves_the_kernel_and_kernel_reuses_it(start_server, blurred, tmp_path):
    _, truth, image = blurred
    running = start_server([ClassicalEngine()])
    photo, out, kpng = tmp_path / "shake.png", tmp_path / "sharp.png", tmp_path / "k.png"
    write_image(photo, np.round(image * 255).astype(np.uint8))
    assert main(["deblur", str(photo), "-o", str(out), "--kernel-out", str(kpng),
                 "--param", "kernel_size=21", "--server", running.address]) == 0
    saved = read_image(kpng)
    assert saved.dtype == np.uint16 and saved.max() == 65535
    kernel = kernel_from_pixels(saved)
    assert agreement(kernel, truth) >= 0.8
    # Handing the saved kernel back gives the blind result again (the same kernel, up to
    # the 16-bit rounding of the file), without estimating.
    again = tmp_path / "again.png"
    assert main(["deblur", str(photo), "-o", str(again), "--kernel", str(kpng),
                 "--server", running.address]) == 0
    diff = np.abs(read_image(again).astype(int) - read_image(out).astype(int))
    # The |grad|^0.8 prior's shrinkage jumps at its threshold, so a kernel changed in its
    # 7th digit may move a pixel on a steep edge by a few levels (3 seen, in 1 pixel).
    assert (diff > 1).mean() < 1e-3 and diff.max() <= 8


@pytest.mark.parametrize("target,message", [
    ("nope/x.png", "does not exist"),
    ("x.unknown", "unknown image type"),
    ("ro/x.png", "not writable"),
])
@pytest.mark.parametrize("option", ["-o", "--kernel-out"])
def test_an_unwritable_output_fails_before_the_job(start_server, tmp_path, capsys, target,
                                                   message, option, monkeypatch):
    engine = InvertEngine()
    running = start_server([engine])
    photo = tmp_path / "p.png"
    write_image(photo, np.zeros((8, 8, 3), np.uint8))
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    if os.access(read_only, os.W_OK):
        # As root every folder is writable: make this one read as read-only, as it would
        # for any other user, so the check still runs (CI runs as root).
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode, **kw: False if (
            Path(path) == read_only and mode & os.W_OK) else real_access(path, mode, **kw))
    outputs = (["-o", str(tmp_path / target)] if option == "-o" else
               ["-o", str(tmp_path / "fine.png"), option, str(tmp_path / target)])
    assert main(["deblur", str(photo), *outputs, "--server", running.address]) == 1
    assert message in capsys.readouterr().err
    assert engine.tiles_run == 0  # refused before any work was sent
    assert not (tmp_path / "fine.png").exists()
