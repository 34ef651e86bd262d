"""DeblurServicer: validate, convert, hand the job to the queue, stream events back."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import grpc

from ..errors import InternalError, InvalidRequest, OsddError
from ..jobs.queue import JobQueue
from ..rpc import convert
from ..rpc._pb import deblur_pb2 as pb
from ..rpc._pb import deblur_pb2_grpc as pb_grpc
from ..rpc.status import code_for
from ..rpc.upload import ImageUpload
from ..types import JobSpec

log = logging.getLogger(__name__)


class DeblurServicer(pb_grpc.DeblurServicer):
    def __init__(self, jobs: JobQueue) -> None:
        self.jobs = jobs
        self.service = jobs.service

    def GetInfo(self, request: pb.GetInfoRequest, context: grpc.ServicerContext) -> pb.ServerInfo:
        with _status_on_error(context):
            return convert.info_to_pb(self.service.info())

    def Deblur(self, request_iterator: Iterator[pb.DeblurRequest],
               context: grpc.ServicerContext) -> Iterator[pb.DeblurEvent]:
        with _status_on_error(context):
            started = time.perf_counter()
            handle = self.jobs.submit(self._receive(request_iterator), started)
            context.add_callback(handle.cancel)
            if not context.is_active():
                handle.cancel()
            max_bytes = self.service.limits.max_chunk_bytes
            for event in handle:
                yield from convert.event_messages(event, max_bytes)

    def _receive(self, requests: Iterator[pb.DeblurRequest]) -> JobSpec:
        first = next(requests, None)
        if first is None or first.WhichOneof("payload") != "header":
            raise InvalidRequest("the first message of a Deblur call must be a DeblurHeader")
        upload = ImageUpload(convert.header_from_pb(first.header), self.service.limits)
        # Fail fast on engine, parameters and a full queue before receiving megabytes.
        self.service.check(upload.probe())
        self.jobs.check_room()
        for message in requests:
            if message.WhichOneof("payload") != "chunk":
                raise InvalidRequest("only one DeblurHeader per call; then pixel chunks")
            upload.add(message.chunk)
        return upload.finish()


class _status_on_error:
    """Turns domain errors into their status code and unknown errors into INTERNAL with a
    generic message; the trace goes to the log."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self.context = context

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, GeneratorExit):
            return False
        if not isinstance(exc, OsddError):
            log.error("unexpected error in a request", exc_info=(kind, exc, tb))
            exc = InternalError("internal server error; see the server log")
        else:
            log.info("request rejected: %s: %s", code_for(exc).name, exc)
        self.context.abort(code_for(exc), str(exc))
        return False
