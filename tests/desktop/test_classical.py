"""End to end on the real classical engine: the bundled photo of real camera shake."""

import numpy as np
import pytest
from PyQt6.QtWidgets import QMessageBox

from backend.types import Region
from desktop_gui.app import build

from ..conftest import ROOT  # noqa: TID252

SAMPLE = ROOT / "backend" / "samples" / "clock_motion.png"


@pytest.mark.slow
def test_classical_engine_deblurs_only_the_selected_region(qtbot, start_server, monkeypatch):
    from backend.engine.classical import ClassicalEngine

    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    running = start_server([ClassicalEngine()])
    parts = build(running.address, poll_ms=200)
    qtbot.addWidget(parts.window)
    try:
        qtbot.waitUntil(lambda: parts.settings.engine == "classical", timeout=10_000)
        assert parts.window.open_path(SAMPLE)
        doc = parts.workspace.document
        before = doc.pixels.copy()
        region = Region(120, 80, 160, 140)
        doc.set_selection(region)
        parts.window.deblur()
        qtbot.waitUntil(lambda: not parts.workspace.busy, timeout=180_000)  # a slow CPU
        assert parts.window.last_message is None
        changed = np.any(doc.pixels != before, axis=2)
        inside = np.zeros_like(changed)
        inside[region.slices] = True
        assert changed[inside].mean() > 0.5, "the region should be sharpened"
        assert not changed[~inside].any(), "nothing outside the region may change"
        np.testing.assert_array_equal(parts.window.view.shown_image()[:, :, 0],
                                      doc.pixels[:, :, 0])
        assert "classical" in parts.window.statusBar().currentMessage()
        # The kernel the engine removed is shown beside the result.
        kernel = parts.window.kernel_view.kernel
        assert kernel is not None and kernel.shape[0] > 1
        assert f"{kernel.shape[0]}x{kernel.shape[0]}" in parts.window.kernel_view.caption.text()
        assert not parts.window.kernel_view.picture.pixmap().isNull()
    finally:
        parts.shutdown()
