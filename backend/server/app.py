"""build_server: the gRPC server with the Deblur service, health, reflection and auth."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from ..errors import ConfigError, Unauthenticated
from ..jobs.queue import JobQueue
from ..jobs.service import DeblurService
from ..rpc._pb import deblur_pb2, deblur_pb2_grpc
from ..rpc.client import SERVICE_NAME
from ..types import Limits
from .servicer import DeblurServicer, abort_with

log = logging.getLogger(__name__)
_HEALTH_PREFIX = "/grpc.health.v1.Health/"


@dataclass(frozen=True)
class ServerConfig:
    """Where and how to listen. A non-loopback host needs allow_remote and a token."""

    host: str = "127.0.0.1"
    port: int = 50051
    allow_remote: bool = False
    token: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    limits: Limits = field(default_factory=Limits)
    grace_seconds: float = 30.0
    #: Threads that run the jobs' steps (analyses and tile batches), per device.
    workers: int = 1

    def check(self) -> None:
        if not is_loopback(self.host):
            if not self.allow_remote:
                raise ConfigError(f"listening on {self.host} exposes the server to the network; "
                                  "pass --allow-remote (with --token) to do that on purpose")
            if not self.token:
                raise ConfigError(f"listening on {self.host} needs an access token (--token "
                                  "or OSDD_TOKEN); clients send it as 'authorization: Bearer'")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("TLS needs both --tls-cert and --tls-key")


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _TokenInterceptor(grpc.aio.ServerInterceptor):
    """Checks `authorization: Bearer <token>` on every RPC except the health service."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_HEALTH_PREFIX):
            return handler
        given = dict(handler_call_details.invocation_metadata).get("authorization", "")
        scheme, _, credentials = given.strip().partition(" ")
        # The scheme is case-insensitive (RFC 9110); the token itself is compared exactly.
        if scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(),
                                                              self._expected):
            return handler
        return _refusal(handler, Unauthenticated(
            "missing or wrong access token (send 'authorization: Bearer <token>')"))


def _refusal(handler: grpc.RpcMethodHandler, error: Exception) -> grpc.RpcMethodHandler:
    async def refuse(request, context):
        await abort_with(context, error)

    kind = {(False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler}
    make = kind[(handler.request_streaming, handler.response_streaming)]
    return make(refuse, handler.request_deserializer, handler.response_serializer)


class DeblurServer:
    """A configured server: start(), port, stop(). Health reports NOT_SERVING until the
    engines are loaded and again from the moment shutdown begins.

    The gRPC server is asyncio's (see servicer.py for why) and runs on one event loop
    thread shared by every server of the process; this class keeps a blocking interface,
    so callers (the CLI, the desktop app's in-process server, tests) need no asyncio."""

    def __init__(self, config: ServerConfig, service: DeblurService,
                 devices: Sequence[DeblurService] = ()) -> None:
        """``devices``: the same engines built for further devices (see JobQueue)."""
        config.check()
        self.config = config
        self.jobs = JobQueue(service, service.limits.max_queued_jobs, on_ready=self._on_ready,
                             workers=config.workers, devices=devices)
        self._loop = rpc_loop()
        self._run(self._build(config, service.limits))

    async def _build(self, config: ServerConfig, limits: Limits) -> None:
        self.health = health.aio.HealthServicer()
        await self._health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self._server = grpc.aio.server(
            interceptors=[_TokenInterceptor(config.token)] if config.token else [],
            options=[("grpc.max_receive_message_length", limits.max_message_bytes),
                     ("grpc.max_send_message_length", limits.max_message_bytes),
                     # Without this a second server on the same port starts silently and
                     # the kernel splits clients between the two.
                     ("grpc.so_reuseport", 0)])
        servicer = DeblurServicer(self.jobs)
        self.uploads = servicer.uploads
        deblur_pb2_grpc.add_DeblurServicer_to_server(servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        names = (deblur_pb2.DESCRIPTOR.services_by_name["Deblur"].full_name,
                 health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                 reflection.SERVICE_NAME)
        reflection.enable_server_reflection(names, self._server)
        host = f"[{config.host}]" if ":" in config.host else config.host
        address = f"{host}:{config.port}"
        try:
            if config.tls_cert is not None and config.tls_key is not None:
                creds = grpc.ssl_server_credentials(
                    [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])
                self.port = self._server.add_secure_port(address, creds)
            else:
                self.port = self._server.add_insecure_port(address)
        except OSError as exc:
            raise ConfigError(f"cannot read the TLS files: {exc}") from None
        except RuntimeError:
            self.port = 0
        if not self.port:
            raise ConfigError(f"cannot listen on {address}: the port is in use or the "
                              "address is not one of this machine's")
        self.address = f"{host}:{self.port}"

    def start(self) -> DeblurServer:
        self._run(self._server.start())
        self.jobs.start()
        tls = " with TLS" if self.config.tls_cert else ""
        auth = ", token required" if self.config.token else ""
        log.info("listening on %s%s%s; engines: %s", self.address, tls, auth,
                 ", ".join(self.jobs.service.engines))
        return self

    def stop(self, grace: float | None = None) -> None:
        """Health goes NOT_SERVING and new jobs are refused (UNAVAILABLE) while queued and
        running jobs get up to `grace` seconds to finish; then the server stops, cancelling
        whatever is left."""
        grace = self.config.grace_seconds if grace is None else grace
        deadline = time.monotonic() + grace
        log.info("shutting down (grace %.0f s)", grace)
        self._run(self._health(health_pb2.HealthCheckResponse.NOT_SERVING))
        self.jobs.close()
        if not self.jobs.join(timeout=grace) and self.jobs.busy:
            log.warning("jobs still running after %.0f s; cancelling them", grace)
        # A last second lets finished jobs deliver their final events.
        self._run(self._server.stop(max(deadline - time.monotonic(), 1.0)))
        self.jobs.join(timeout=5)
        log.info("stopped")

    def wait(self) -> None:
        self._run(self._server.wait_for_termination())

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _on_ready(self) -> None:
        # Called on the queue's thread once the engines are loaded.
        self._run(self._health(health_pb2.HealthCheckResponse.SERVING))
        log.info("serving")

    async def _health(self, status: int) -> None:
        await self.health.set("", status)
        await self.health.set(SERVICE_NAME, status)


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def rpc_loop() -> asyncio.AbstractEventLoop:
    """The process's one event loop for gRPC servers, on a daemon thread started on first
    use. One loop for all: gRPC's asyncio layer binds itself to a single loop."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="osdd-rpc", daemon=True).start()
            _LOOP = loop
        return _LOOP
