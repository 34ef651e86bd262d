"""Server addresses as gRPC channel targets: one "host:port", a comma list of them, or a
gRPC target ("dns:///name:port", whose several address records count as several servers).

Several servers become one channel that gRPC balances itself (round_robin over the
servers whose health service says SERVING), with gRPC's retry policy for calls that fail
before they start (a server refusing or gone). A job that fails after it has started is
resent by DeblurCall (a streaming upload is too large for gRPC's own retry buffer)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

from ..errors import ConfigError

SERVICE_NAME = "osdd.v1.Deblur"


@dataclass(frozen=True)
class Target:
    """What a channel is opened on: the gRPC target, how many servers it names (None:
    decided by DNS), and the name TLS certificates are checked against."""

    target: str
    servers: int | None
    tls_name: str | None = None

    def options(self) -> list[tuple[str, object]]:
        options: list[tuple[str, object]] = [
            ("grpc.service_config", json.dumps(_service_config(self.servers != 1))),
            ("grpc.enable_retries", 1)]
        if self.tls_name is not None:
            options.append(("grpc.ssl_target_name_override", self.tls_name))
        return options


def parse_target(address: str) -> Target:
    """The Target for what a user typed after --server (see the module's docstring)."""
    address = address.strip()
    if "://" in address or address.startswith(("dns:", "ipv4:", "ipv6:", "unix:")):
        return Target(address, None)
    names = [part.strip() for part in address.split(",") if part.strip()]
    if not names:
        raise ConfigError("no server address given (expected host:port)")
    if len(names) == 1:
        _split(names[0])
        return Target(names[0], 1)
    splits = [_split(name) for name in names]
    resolved = [_resolve(host, port) for host, port in splits]
    family = "ipv4" if all(":" not in host for host, _ in resolved) else "ipv6"
    if family == "ipv6" and any(":" not in host for host, _ in resolved):
        raise ConfigError(f"servers {address!r} mix IPv4 and IPv6 addresses; list servers "
                          "of one kind")
    listed = ",".join(f"[{host}]:{port}" if family == "ipv6" else f"{host}:{port}"
                      for host, port in resolved)
    # TLS checks every server's certificate against the first name given.
    return Target(f"{family}:{listed}", len(names), tls_name=splits[0][0])


def _split(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"server address must be host:port, got {address!r}")
    return host, int(port)


def _resolve(host: str, port: int) -> tuple[str, int]:
    """One numeric address for host, IPv4 first (what "localhost" means to most servers)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(f"cannot resolve server {host!r}: {exc}") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return infos[0][4][0], port


def _service_config(several: bool) -> dict:
    retry = {"initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2}
    config: dict = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {"name": [{"service": SERVICE_NAME, "method": "GetInfo"}],
             "retryPolicy": {"maxAttempts": 4, **retry,
                             "retryableStatusCodes": ["UNAVAILABLE"]}},
            {"name": [{"service": SERVICE_NAME, "method": "Deblur"}],
             "retryPolicy": {"maxAttempts": 4, **retry,
                             "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"]}},
        ],
    }
    if several:
        # Jobs go only to servers that say SERVING (not loading engines, not stopping). One
        # server keeps plain health calls, so a client can see it say NOT_SERVING.
        config["healthCheckConfig"] = {"serviceName": SERVICE_NAME}
    return config
