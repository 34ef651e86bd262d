"""DeblurServicer: receive and check a job, hand it to the queue, stream its events back.

It runs on the server's asyncio loop, so a client that uploads slowly, or stalls, holds no
thread: health, reflection and GetInfo keep answering whatever the uploads do. The job's
own work happens on the queue's worker thread, which wakes the loop for each event."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import grpc

from ..errors import DeadlineExceeded, InternalError, InvalidRequest, OsddError
from ..jobs.queue import JobHandle, JobQueue
from ..jobs.service import CheckedJob
from ..rpc import convert
from ..rpc._pb import deblur_pb2 as pb
from ..rpc._pb import deblur_pb2_grpc as pb_grpc
from ..rpc.status import code_for
from ..rpc.upload import ImageUpload
from ..types import JobSpec
from .admission import UploadSlots

log = logging.getLogger(__name__)


class DeblurServicer(pb_grpc.DeblurServicer):
    def __init__(self, jobs: JobQueue) -> None:
        self.jobs = jobs
        self.service = jobs.service
        limits = self.service.limits
        self.uploads = UploadSlots(limits.max_uploads, limits.max_upload_bytes)

    async def GetInfo(self, request: pb.GetInfoRequest,
                      context: grpc.aio.ServicerContext) -> pb.ServerInfo:
        try:
            return convert.info_to_pb(self.jobs.info())
        except Exception as exc:  # noqa: BLE001 - every error becomes a status
            await abort_with(context, exc)

    async def Deblur(self, request_iterator: AsyncIterator[pb.DeblurRequest],
                     context: grpc.aio.ServicerContext) -> AsyncIterator[pb.DeblurEvent]:
        started = time.perf_counter()
        handle: JobHandle | None = None
        try:
            spec, checked = await self._receive(context)
            woken = asyncio.Event()
            handle = self.jobs.submit(spec, started, wake=_waker(woken),
                                      client=_client_of(context), checked=checked)
            del spec  # the queue holds the image now and frees it when the job ends
            max_bytes = self.service.limits.max_chunk_bytes
            while True:
                woken.clear()
                events, error, ended = handle.take()
                for event in events:
                    for message in convert.event_messages(event, max_bytes):
                        yield message
                if error is not None:
                    raise error
                if ended:
                    return
                if not events:
                    await woken.wait()
        except Exception as exc:  # noqa: BLE001 - every error becomes a status
            await abort_with(context, exc)
        finally:
            # Whatever ended the call (an error, the client leaving, its deadline), the job
            # must not keep the worker.
            if handle is not None:
                handle.cancel()

    async def _receive(self, context: grpc.aio.ServicerContext) -> tuple[JobSpec, CheckedJob]:
        """The job, received and checked once: its engine, parameters, kernel and keep
        depend on the header only, so the check made before the pixels holds for them."""
        idle = self.service.limits.upload_idle_seconds
        first = await _read(context, idle)
        if first is grpc.aio.EOF or first.WhichOneof("payload") != "header":
            raise InvalidRequest("the first message of a Deblur call must be a DeblurHeader")
        upload = ImageUpload(convert.header_from_pb(first.header), self.service.limits)
        # Fail fast on engine, parameters and a full queue before receiving megabytes.
        checked = self.service.check(upload.probe())
        self.jobs.check_room()
        with self.uploads.admit(upload.header.byte_count):
            while (message := await _read(context, idle)) is not grpc.aio.EOF:
                if message.WhichOneof("payload") != "chunk":
                    raise InvalidRequest("only one DeblurHeader per call; then pixel chunks")
                upload.add(message.chunk)
            # Checking a large float image for NaN takes a while; not on the loop.
            return await asyncio.to_thread(upload.finish), checked


async def _read(context: grpc.aio.ServicerContext, idle: float):
    try:
        return await asyncio.wait_for(context.read(), idle)
    except asyncio.TimeoutError:
        raise DeadlineExceeded(
            f"no data arrived for {idle:g} s, so the server ended the upload; a client must "
            "send the header and its pixel chunks without pausing") from None


def _client_of(context: grpc.aio.ServicerContext) -> str:
    """Who is asking, for turn taking: the peer's address without its port, so that the
    connections of one machine count as one client ("ipv4:10.0.0.7")."""
    peer = context.peer() or ""
    return peer.rpartition(":")[0] or peer


def _waker(woken: asyncio.Event):
    """A callable for the worker thread that sets `woken` on this loop."""
    loop = asyncio.get_running_loop()

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(woken.set)
        except RuntimeError:  # the loop has closed: nobody is listening any more
            pass

    return wake


async def abort_with(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """End the call with the status for a domain error; an unknown error becomes INTERNAL
    with a generic message and its trace goes to the log."""
    if not isinstance(exc, OsddError):
        log.error("unexpected error in a request", exc_info=exc)
        exc = InternalError("internal server error; see the server log")
    else:
        log.info("request rejected: %s: %s", code_for(exc).name, exc)
    await context.abort(code_for(exc), str(exc))
