"""A cancel during the classical engine's blur estimation frees the worker at once."""

from __future__ import annotations

import time

import numpy as np
import pytest

from backend.errors import Cancelled
from backend.types import Done, Progress

from ..engine.blind._helpers import shapes_photo  # noqa: TID252


@pytest.mark.slow
def test_cancel_during_estimation_frees_the_worker_within_a_second(start_server):
    from backend.engine.classical import ClassicalEngine

    running = start_server([ClassicalEngine()])
    grey = shapes_photo(900, seed=11)
    big = (np.repeat(grey[..., None], 3, axis=2) * 255).astype(np.uint8)
    small = big[:64, :64].copy()
    # Without a cancel, the estimation alone of this photo takes several seconds here.
    call = running.client.deblur(big)
    cancelled_at = None
    with pytest.raises(Cancelled):
        for event in call:
            if isinstance(event, Progress) and event.stage == "analysing":
                time.sleep(0.5)  # well inside the estimation
                cancelled_at = time.monotonic()
                call.cancel()
    assert cancelled_at is not None
    events = list(running.client.deblur(small))
    freed_after = time.monotonic() - cancelled_at
    assert isinstance(events[-1], Done)
    started = time.monotonic()
    list(running.client.deblur(small))
    alone = time.monotonic() - started
    # The next job waited for the worker no longer than one estimation step.
    assert freed_after < 1.0 + alone, (freed_after, alone)
