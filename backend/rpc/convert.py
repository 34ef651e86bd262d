"""Protobuf <-> backend.types: the only module that builds or reads _pb messages."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..errors import InvalidRequest
from ..types import (
    Accepted,
    Done,
    EngineInfo,
    JobEvent,
    JobSpec,
    Limits,
    ParamSpec,
    PixelType,
    Progress,
    Queued,
    Region,
    ServerInfo,
    TileResult,
)
from ._pb import deblur_pb2 as pb
from .upload import ImageHeader

_PIXEL_TO_PB = {PixelType.U8: pb.PIXEL_TYPE_U8, PixelType.U16: pb.PIXEL_TYPE_U16,
                PixelType.F32: pb.PIXEL_TYPE_F32}
_PIXEL_FROM_PB = {v: k for k, v in _PIXEL_TO_PB.items()}


# --- requests ---------------------------------------------------------------------------

def job_messages(spec: JobSpec, chunk_bytes: int) -> Iterator[pb.DeblurRequest]:
    """The request stream for a job: header, then pixel chunks of at most chunk_bytes."""
    image = np.ascontiguousarray(spec.image, dtype=spec.image.dtype.newbyteorder("<"))
    height, width, channels = image.shape
    header = pb.DeblurHeader(width=width, height=height, channels=channels,
                             pixel_type=_PIXEL_TO_PB[spec.pixel_type], engine=spec.engine,
                             params={k: float(v) for k, v in spec.params.items()})
    if spec.seed is not None:
        header.seed = spec.seed
    if spec.kernel is not None:
        header.kernel.CopyFrom(_kernel_to_pb(spec.kernel))
    if spec.keep is not None:
        k = spec.keep
        header.keep.CopyFrom(pb.Rect(x=k.x, y=k.y, width=k.width, height=k.height))
    yield pb.DeblurRequest(header=header)
    data = memoryview(image.reshape(-1).view(np.uint8))
    for start in range(0, len(data), chunk_bytes):
        yield pb.DeblurRequest(chunk=bytes(data[start:start + chunk_bytes]))


def header_from_pb(message: pb.DeblurHeader) -> ImageHeader:
    return ImageHeader(
        width=message.width, height=message.height, channels=message.channels,
        pixel_type=_PIXEL_FROM_PB.get(message.pixel_type), engine=message.engine or "auto",
        params=dict(message.params), seed=message.seed if message.HasField("seed") else None,
        kernel=_kernel_from_pb(message.kernel) if message.HasField("kernel") else None,
        keep=_region_from_pb(message.keep) if message.HasField("keep") else None)


def _region_from_pb(rect: pb.Rect) -> Region:
    return Region(rect.x, rect.y, rect.width, rect.height)


def _kernel_to_pb(kernel: np.ndarray) -> pb.Kernel:
    k = np.ascontiguousarray(kernel, dtype="<f4")
    return pb.Kernel(size=k.shape[0], values=k.tobytes())


def _kernel_from_pb(message: pb.Kernel) -> np.ndarray:
    """The kernel's values as a size x size array; checking them is the receiver's job."""
    side = message.size
    if side * side * 4 != len(message.values):
        raise InvalidRequest(f"blur kernel of size {side} needs {side * side * 4} bytes, got "
                             f"{len(message.values)}")
    return np.frombuffer(message.values, dtype="<f4").reshape(side, side).astype(np.float32)


# --- events -----------------------------------------------------------------------------

def event_messages(event: JobEvent, max_bytes: int) -> Iterator[pb.DeblurEvent]:
    """Wire messages for one event; a large tile is split into row bands of at most
    max_bytes of pixels, which still never overlap and cover the tile exactly once."""
    if isinstance(event, TileResult):
        r, pixels = event.region, np.ascontiguousarray(event.pixels)
        row_bytes = max(pixels[0].nbytes if len(pixels) else 1, 1)
        rows = max(1, max_bytes // row_bytes)
        for top in range(0, r.height, rows):
            band = pixels[top:top + rows]
            data = band.astype(band.dtype.newbyteorder("<"), copy=False).tobytes()
            yield pb.DeblurEvent(tile=pb.Tile(x=r.x, y=r.y + top, width=r.width,
                                              height=len(band), pixels=data))
    elif isinstance(event, Accepted):
        yield pb.DeblurEvent(accepted=pb.Accepted(job_id=event.job_id,
                                                  queue_position=event.queue_position))
    elif isinstance(event, Queued):
        yield pb.DeblurEvent(queued=pb.Queued(queue_position=event.queue_position))
    elif isinstance(event, Progress):
        yield pb.DeblurEvent(progress=pb.Progress(
            tiles_done=event.tiles_done, tiles_total=event.tiles_total, stage=event.stage,
            message=event.message))
    elif isinstance(event, Done):
        done = pb.Done(engine=event.engine, device=event.device,
                       engine_seconds=event.engine_seconds, total_seconds=event.total_seconds)
        if event.kernel is not None:
            done.kernel.CopyFrom(_kernel_to_pb(event.kernel))
        yield pb.DeblurEvent(done=done)
    else:
        raise TypeError(f"not a job event: {event!r}")


def event_from_pb(message: pb.DeblurEvent, pixel_type: PixelType, channels: int) -> JobEvent:
    kind = message.WhichOneof("event")
    if kind == "tile":
        t = message.tile
        expected = t.width * t.height * channels * pixel_type.dtype.itemsize
        if t.width <= 0 or t.height <= 0 or len(t.pixels) != expected:
            raise ValueError(f"malformed tile from server: {t.width}x{t.height} with "
                             f"{len(t.pixels)} bytes")
        pixels = np.frombuffer(t.pixels, dtype=pixel_type.dtype).reshape(
            t.height, t.width, channels).astype(pixel_type.dtype.newbyteorder("="))
        return TileResult(Region(t.x, t.y, t.width, t.height), pixels)
    if kind == "accepted":
        return Accepted(message.accepted.job_id, message.accepted.queue_position)
    if kind == "queued":
        return Queued(message.queued.queue_position)
    if kind == "progress":
        p = message.progress
        return Progress(p.tiles_done, p.tiles_total, p.stage, p.message)
    if kind == "done":
        d = message.done
        try:
            kernel = _kernel_from_pb(d.kernel) if d.HasField("kernel") else None
        except InvalidRequest as exc:
            raise ValueError(f"malformed kernel from server: {exc}") from None
        return Done(d.engine, d.device, d.engine_seconds, d.total_seconds, kernel)
    raise ValueError(f"unknown event from server: {kind!r}")


# --- info -------------------------------------------------------------------------------

def info_to_pb(info: ServerInfo) -> pb.ServerInfo:
    lim = info.limits
    return pb.ServerInfo(
        version=info.version, default_engine=info.default_engine, device=info.device,
        engines=[pb.EngineInfo(
            name=e.name, description=e.description, device=e.device,
            params=[pb.ParamSpec(name=p.name, type=p.type, default_value=p.default,
                                 minimum=p.minimum, maximum=p.maximum,
                                 description=p.description, step=p.step) for p in e.params])
            for e in info.engines],
        limits=pb.Limits(max_pixels=lim.max_pixels, max_chunk_bytes=lim.max_chunk_bytes,
                         max_message_bytes=lim.max_message_bytes,
                         max_queued_jobs=lim.max_queued_jobs,
                         max_concurrent_jobs=lim.max_concurrent_jobs))


def info_from_pb(message: pb.ServerInfo) -> ServerInfo:
    lim = message.limits
    return ServerInfo(
        version=message.version, default_engine=message.default_engine, device=message.device,
        engines=tuple(EngineInfo(
            e.name, e.description, e.device,
            tuple(ParamSpec(p.name, p.type, p.default_value, p.minimum, p.maximum,
                            p.description, p.step) for p in e.params))
            for e in message.engines),
        limits=Limits(lim.max_pixels, lim.max_chunk_bytes, lim.max_message_bytes,
                      lim.max_queued_jobs, lim.max_concurrent_jobs))
