"""Keeping the model libraries' chatter about intended actions off the screen."""

from __future__ import annotations

import logging
from contextlib import contextmanager


@contextmanager
def quiet_libraries():
    """diffusers/transformers warn about things intended here (casts while building random
    models or saving an adapter, fresh weights); those warnings would only confuse users."""
    loggers = [logging.getLogger(name) for name in ("diffusers", "transformers")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
