"""DeblurClient: the one gRPC client every front end uses (CLI, desktop app, GIMP bridge).

    from backend.rpc.client import DeblurClient
    with DeblurClient("127.0.0.1:50051") as client:
        sharp = client.deblur_image(blurry)          # HWC uint8/uint16/float32 array

For progress, iterate a call: `for event in client.deblur(blurry): ...` gives Accepted,
Queued, Progress, TileResult and Done events; `call.cancel()` stops the server's job.
Failures raise the domain errors of backend.errors.

The address may name several servers ("a:50051,b:50051", or a DNS name with several
records): jobs are spread over those that are serving, and a job whose server fails or is
full is sent again to another (see backend.rpc.targets).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..blur_kernel import checked_kernel
from ..errors import ConfigError, InternalError, InvalidRequest, ResourceExhausted, Unavailable
from ..types import (
    DEFAULT_MARGIN,
    Done,
    JobEvent,
    JobSpec,
    PixelType,
    Progress,
    Region,
    ServerInfo,
    TileResult,
)
from . import convert
from ._pb import deblur_pb2 as pb
from ._pb import deblur_pb2_grpc as pb_grpc
from .status import error_from_rpc
from .targets import SERVICE_NAME, parse_target

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_CHUNK_BYTES = 1 << 20
_RECEIVE_LIMIT = 64 << 20


@dataclass(frozen=True)
class ConnectionSettings:
    """Where a front end's server is and how to reach it: "host:port", the access token
    (sent as `authorization: Bearer`), a PEM root certificate for TLS (None: plain). Every
    front end builds its client from one of these, made by ``resolve``."""

    address: str = DEFAULT_ADDRESS
    token: str | None = None
    tls_ca: Path | None = None

    @classmethod
    def resolve(cls, address: str | None = None, token: str | None = None,
                tls_ca: str | Path | None = None) -> ConnectionSettings:
        """Each value given, else $OSDD_SERVER, $OSDD_TOKEN, $OSDD_TLS_CA, else the default
        (loopback, no token, no TLS)."""
        env = os.environ
        ca = tls_ca or env.get("OSDD_TLS_CA") or None
        return cls(address=(address or env.get("OSDD_SERVER") or DEFAULT_ADDRESS).strip(),
                   token=token or env.get("OSDD_TOKEN") or None,
                   tls_ca=Path(ca) if ca else None)

    def at(self, address: str) -> ConnectionSettings:
        """The same credentials for another server."""
        return replace(self, address=address.strip())

    def client(self) -> DeblurClient:
        return DeblurClient(self.address, token=self.token, root_certificates=self.tls_ca)


class DeblurCall:
    """An iterable of JobEvents for one running job; cancel() stops it on the server.
    Tiles are moved by ``origin`` (x, y) into the caller's coordinates; with ``expected``
    (pixels), a Done that arrives before that many pixels of tiles is an error. With
    ``resend`` (which starts the job again), a job whose server fails (UNAVAILABLE) or is
    full (RESOURCE_EXHAUSTED) is sent again up to ``resends`` times, announced by a
    Progress of stage "resending"; its tiles then come again from the start."""

    def __init__(self, call: grpc.Future, pixel_type: PixelType, channels: int,
                 origin: tuple[int, int] = (0, 0), expected: int | None = None,
                 resend: Callable[[], grpc.Future] | None = None, resends: int = 0) -> None:
        self._call = call
        self._pixel_type = pixel_type
        self._channels = channels
        self._origin = origin
        self._expected = expected
        self._resend = resend
        self._resends = resends if resend is not None else 0
        self._cancelled = False

    def __iter__(self) -> Iterator[JobEvent]:
        try:
            while True:
                try:
                    yield from self._events()
                    return
                except (Unavailable, ResourceExhausted) as exc:
                    if self._cancelled or self._resends <= 0:
                        raise
                    failure = exc
                self._resends -= 1
                yield Progress(0, 0, "resending", f"a server could not finish the job "
                               f"({failure}); sending it to another server")
                self._call = self._resend()
        finally:
            # Leaving early (an error, Ctrl-C, a dropped iterator) must stop the server's job.
            self._call.cancel()

    def _events(self) -> Iterator[JobEvent]:
        covered = 0
        try:
            for message in self._call:
                event = convert.event_from_pb(message, self._pixel_type, self._channels)
                if isinstance(event, TileResult):
                    r = event.region
                    event = TileResult(Region(r.x + self._origin[0], r.y + self._origin[1],
                                              r.width, r.height), event.pixels)
                    covered += r.area
                elif (isinstance(event, Done) and self._expected is not None
                      and covered != self._expected):
                    raise InternalError(f"server returned {covered} of {self._expected} "
                                        "pixels")
                yield event
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None
        except ValueError as exc:
            raise InternalError(str(exc)) from None

    def cancel(self) -> None:
        self._cancelled = True
        self._call.cancel()


class DeblurClient:
    """Connection to one osdd server. Thread-safe; close() (or `with`) releases it.

    address: "host:port", or several servers (see the module's docstring). token: sent
    as `authorization: Bearer <token>` when given. root_certificates: PEM bytes (or a
    path) to use TLS; None for a plain connection. With several servers, TLS checks each
    one's certificate against the first host name given.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, *, token: str | None = None,
                 root_certificates: bytes | str | Path | None = None,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        target = parse_target(address)
        options = [("grpc.max_receive_message_length", _RECEIVE_LIMIT), *target.options()]
        if root_certificates is not None:
            if isinstance(root_certificates, (str, Path)):
                try:
                    root_certificates = Path(root_certificates).read_bytes()
                except OSError as exc:
                    raise ConfigError(f"cannot read the TLS root certificate: {exc}") from None
            creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(target.target, creds, options=options)
        else:
            self._channel = grpc.insecure_channel(target.target, options=options)
        self.address = address
        #: How many times a failed job is sent again: once per other server.
        self.resends = 0 if target.servers == 1 else (target.servers or 3) - 1
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = pb_grpc.DeblurStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self.chunk_bytes = chunk_bytes
        self._server_chunk_bytes: int | None = None

    def __enter__(self) -> DeblurClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def info(self, timeout: float = 10.0) -> ServerInfo:
        """Engines, parameters, device and limits of the server."""
        try:
            reply = self._stub.GetInfo(pb.GetInfoRequest(), timeout=timeout,
                                       metadata=self._metadata)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None
        return convert.info_from_pb(reply)

    def health(self, timeout: float = 5.0) -> str:
        """"SERVING", "NOT_SERVING" (e.g. still loading an engine, or stopping) or "UNKNOWN"."""
        try:
            reply = self._health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME),
                                       timeout=timeout)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from None
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)

    def wait_until_serving(self, timeout: float = 60.0) -> None:
        """Block until the server reports SERVING (engines loaded) or raise Unavailable."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                last = self.health(timeout=max(0.1, min(2.0, deadline - time.monotonic())))
                if last == "SERVING":
                    return
            except Unavailable as exc:
                last = str(exc)
            time.sleep(0.1)
        raise Unavailable(f"server at {self.address} not serving after {timeout:g} s: {last}")

    def deblur(self, image: np.ndarray, *, engine: str = "auto",
               params: Mapping[str, float] | None = None, seed: int | None = None,
               kernel: np.ndarray | None = None, keep: Region | None = None,
               origin: tuple[int, int] = (0, 0), timeout: float | None = None) -> DeblurCall:
        """Start a job on a whole HWC image (uint8, uint16 or float32; 1-4 channels, the
        last one alpha for 2 and 4). Iterate the result for events. ``kernel``: the blur to
        remove (non-blind mode; checked here, before sending); Done carries the one used.
        ``keep``: the only rectangle wanted back, the rest being context for the estimate
        (tiles then cover ``keep`` only). ``origin``: where ``image`` lies in the caller's
        picture, e.g. a crop's corner; tiles come back in that picture's coordinates."""
        image = _as_hwc(image)
        if kernel is not None:
            kernel = checked_kernel(kernel)
        spec = JobSpec(image, engine, dict(params or {}), seed, kernel, keep)
        chunk = self._chunk_size(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout

        def send() -> grpc.Future:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._stub.Deblur(convert.job_messages(spec, chunk), timeout=left,
                                     metadata=self._metadata)

        wanted = keep or Region(0, 0, image.shape[1], image.shape[0])
        return DeblurCall(send(), spec.pixel_type, image.shape[2], origin, wanted.area,
                          resend=send, resends=self.resends)

    def _chunk_size(self, timeout: float | None) -> int:
        """chunk_bytes, lowered to the server's own limit (asked once per client)."""
        if self._server_chunk_bytes is None:
            self._server_chunk_bytes = self.info(timeout=timeout or 10.0).limits.max_chunk_bytes
        return max(1, min(self.chunk_bytes, self._server_chunk_bytes))

    def deblur_region(self, image: np.ndarray, region: Region | None = None, *,
                      margin: int = DEFAULT_MARGIN, engine: str = "auto",
                      params: Mapping[str, float] | None = None, seed: int | None = None,
                      kernel: np.ndarray | None = None,
                      timeout: float | None = None) -> DeblurCall:
        """Start deblurring `region` of `image` (all of it when None): sends the region with
        `margin` pixels of context on each side (copied now, so `image` may change after
        the call), on which the blur is estimated, so more context gives a surer estimate
        for a small region. Its tiles are in `image`'s coordinates and cover `region`
        exactly once."""
        image = _as_hwc(image)
        full = Region(0, 0, image.shape[1], image.shape[0])
        target = full if region is None else region.intersect(full)
        if target.is_empty():
            raise InvalidRequest(f"region {region} does not overlap the {full.width}x"
                                 f"{full.height} image")
        if margin < 0:
            raise InvalidRequest(f"margin must be 0 or more pixels, got {margin}")
        sent = target.grow(margin, full)
        return self.deblur(np.array(image[sent.slices]), engine=engine, params=params,
                           seed=seed, kernel=kernel, keep=target.relative_to(sent),
                           origin=(sent.x, sent.y), timeout=timeout)

    def deblur_image(self, image: np.ndarray, *, region: Region | None = None,
                     margin: int = DEFAULT_MARGIN, engine: str = "auto",
                     params: Mapping[str, float] | None = None, seed: int | None = None,
                     kernel: np.ndarray | None = None, timeout: float | None = None,
                     on_event: Callable[[JobEvent], None] | None = None) -> np.ndarray:
        """`deblur_region` to completion: a new array of the same shape and dtype, changed
        inside `region` only. `on_event` sees every event (Done carries the blur kernel the
        engine removed)."""
        flat = np.ndim(image) == 2
        source = _as_hwc(image)
        out = np.array(source)
        for event in self.deblur_region(source, region, margin=margin, engine=engine,
                                        params=params, seed=seed, kernel=kernel,
                                        timeout=timeout):
            if isinstance(event, TileResult):
                out[event.region.slices] = event.pixels
            if on_event is not None:
                on_event(event)
        return out[:, :, 0] if flat else out


def _as_hwc(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise InvalidRequest(f"image must be HxW or HxWxC with 1-4 channels, got shape "
                             f"{image.shape}")
    PixelType.of(image)
    return image
