"""What the user reads when something fails: a title and an actionable sentence, never a
traceback. One table from the backend's error classes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from backend import errors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserMessage:
    title: str
    text: str


_ADVICE: dict[type[errors.OsddError], tuple[str, str]] = {
    errors.Unavailable: ("Server unreachable", "Start a local server in the Server panel, or "
                         "check the address and that `osdd serve` is running there."),
    errors.InvalidRequest: ("Not accepted", "Check the image, the selected region and the "
                            "parameters."),
    errors.ResourceExhausted: ("Out of memory or capacity", "Select a smaller region, close "
                               "other jobs, or raise the server's limits."),
    errors.Unauthenticated: ("Access denied", "The server needs an access token: start the "
                             "app with $OSDD_TOKEN set to the server's token."),
    errors.Cancelled: ("Cancelled", ""),
    errors.DeadlineExceeded: ("Took too long", "Try a smaller region or a faster engine."),
    errors.EngineUnavailable: ("Engine unavailable", "Choose another engine in Settings."),
    errors.ConfigError: ("Configuration problem", "Check the server address and settings."),
    errors.InternalError: ("Server error", "This is a bug; the server's log has the details."),
}


def describe(error: BaseException) -> UserMessage:
    """The message for `error`; unexpected exceptions are logged with their trace."""
    for cls in type(error).__mro__:
        if cls in _ADVICE:
            title, advice = _ADVICE[cls]
            return UserMessage(title, f"{error}\n\n{advice}".strip())
    log.error("unexpected error", exc_info=error)
    return UserMessage("Unexpected error", f"{type(error).__name__}: {error}\n\nThe log has "
                       "the details.")
