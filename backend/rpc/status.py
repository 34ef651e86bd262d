"""The one table between domain errors and gRPC status codes, used in both directions."""

from __future__ import annotations

import grpc

from .. import errors

_TABLE: tuple[tuple[type[errors.OsddError], grpc.StatusCode], ...] = (
    (errors.InvalidRequest, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.Cancelled, grpc.StatusCode.CANCELLED),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.EngineUnavailable, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.InternalError, grpc.StatusCode.INTERNAL),
    (errors.ConfigError, grpc.StatusCode.FAILED_PRECONDITION),
)
_BY_CODE = {code: cls for cls, code in reversed(_TABLE)}


def code_for(error: errors.OsddError) -> grpc.StatusCode:
    """Status code for a domain error (most specific class wins)."""
    for cls, code in _TABLE:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INTERNAL


def error_from_rpc(exc: grpc.RpcError) -> errors.OsddError:
    """Domain error for a failed call, keeping the server's message."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = (exc.details() if hasattr(exc, "details") else None) or str(code)
    if code == grpc.StatusCode.UNAVAILABLE and "failed to connect" in details.lower():
        details = f"cannot reach the server ({details}); is `osdd serve` running?"
    elif code == grpc.StatusCode.DEADLINE_EXCEEDED and "deadline exceeded" in details.lower():
        # gRPC's own words ("Deadline Exceeded", "Stream removed (Deadline Exceeded)"): the
        # client's time limit ran out; no server message to keep.
        details = ("the job did not finish within the time the client allowed; the server "
                   "stopped it. Allow more time (osdd deblur --timeout), or deblur a smaller "
                   "region")
    return _BY_CODE.get(code, errors.InternalError)(details)
