"""The one domain error hierarchy. Every layer raises these; the gRPC edge maps them to
status codes through backend.rpc.status, and clients map status codes back to them."""

from __future__ import annotations


class OsddError(Exception):
    """Base of every error this project raises on purpose; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidRequest(OsddError):
    """The request itself is wrong (bad header, sizes, parameters, pixel data)."""


class ResourceExhausted(OsddError):
    """A bound was hit: queue full, image too large for the server, out of memory."""


class OutOfMemory(ResourceExhausted):
    """The device ran out of memory for a batch of tiles; smaller work may still fit."""


class Unauthenticated(OsddError):
    """Missing or wrong access token."""


class Cancelled(OsddError):
    """The job was cancelled by the client (or its deadline passed)."""


class DeadlineExceeded(OsddError):
    """The client's deadline passed before the job finished."""


class Unavailable(OsddError):
    """The server cannot take work now: not reachable, shutting down, or still starting."""


class EngineUnavailable(OsddError):
    """The engine exists but cannot run here (e.g. no weights loaded)."""


class InternalError(OsddError):
    """A bug or unexpected failure; details are in the server log, not in the message."""


class ConfigError(OsddError):
    """The server or client configuration is invalid (bad flags, unsafe bind, bad files)."""


class MetricWeightsMissing(ConfigError):
    """A converted metric weights file (LPIPS, DISTS, NIQE) is not where it was looked
    for; the message names the file and the command that creates it."""
