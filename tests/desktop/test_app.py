"""The real app, offscreen, against a real in-process server (pytest-qt)."""

import threading

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDropEvent, QWheelEvent
from PyQt6.QtWidgets import QFileDialog, QLabel, QMessageBox, QSlider

from backend.images import ImageMeta, read_image, read_image_file, write_image
from backend.types import Region
from desktop_gui.app import build

from ..conftest import InvertEngine, srgb_icc_profile  # noqa: TID252
from .helpers import drag, photo


@pytest.fixture
def make_app(qtbot, monkeypatch):
    """build() against `address`; unsaved changes are discarded at teardown (a test that
    checks the prompt patches QMessageBox.question itself)."""
    built = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)

    def make(address, wait_for_engines=True):
        parts = build(address, poll_ms=100)
        built.append(parts)
        qtbot.addWidget(parts.window)
        parts.window.resize(900, 600)
        parts.window.show()
        if wait_for_engines:
            qtbot.waitUntil(lambda: parts.settings.info is not None, timeout=10_000)
        return parts

    yield make
    for parts in built:
        parts.window.cancel_job()
        parts.shutdown()


def finish_job(qtbot, parts):
    qtbot.waitUntil(lambda: not parts.workspace.busy, timeout=20_000)


def test_open_select_deblur_paints_tiles_then_applies_only_inside(qtbot, start_server,
                                                                  make_app, tmp_path):
    running = start_server([InvertEngine(tile_delay=0.03)])
    parts = make_app(running.address)
    original = photo(tmp_path / "p.png")
    window, view = parts.window, parts.window.view
    assert window.open_path(tmp_path / "p.png")
    doc = parts.workspace.document
    rect = view.to_widget(Region(20, 10, 100, 80))
    drag(view, rect.topLeft(), rect.bottomRight())
    region = doc.selection
    assert region is not None and abs(region.x - 20) <= 1 and abs(region.width - 100) <= 2

    window.deblur_button.click()
    assert parts.workspace.busy and window.job_bar.isVisible()

    def some_tiles_shown():
        shown = view.shown_image()[:, :, :3].astype(int)
        return (shown[region.slices] == 255 - original[region.slices]).all(axis=2).any()

    qtbot.waitUntil(some_tiles_shown, timeout=10_000)
    assert parts.workspace.busy, "tiles must appear before the job ends"
    qtbot.waitUntil(lambda: "left" in window.job_bar.label.text(), timeout=10_000)
    assert "elapsed" in window.job_bar.label.text() and window.job_bar.progress.maximum() > 1
    assert not doc.dirty
    finish_job(qtbot, parts)

    expected = original.copy()
    expected[region.slices] = 255 - original[region.slices]
    np.testing.assert_array_equal(doc.pixels, expected)
    np.testing.assert_array_equal(view.shown_image()[:, :, :3], expected)
    assert doc.dirty and window.windowTitle().startswith("p.png*")
    assert not window.job_bar.isVisible()

    window.undo_action.trigger()
    np.testing.assert_array_equal(doc.pixels, original)
    np.testing.assert_array_equal(view.shown_image()[:, :, :3], original)
    window.redo_action.trigger()
    np.testing.assert_array_equal(doc.pixels, expected)


def test_cancel_mid_job_leaves_the_image_unchanged(qtbot, start_server, make_app, tmp_path):
    gate = threading.Event()
    engine = InvertEngine(tile_delay=0.02)
    running = start_server([engine])
    parts = make_app(running.address)
    original = photo(tmp_path / "p.png", 200, 200)
    parts.window.open_path(tmp_path / "p.png")
    parts.window.deblur()
    qtbot.waitUntil(lambda: engine.tiles_run > 0, timeout=10_000)
    engine.gate = gate  # hold the rest of the job until the cancel has gone through
    parts.window.job_bar.cancel_button.click()
    finish_job(qtbot, parts)
    gate.set()
    doc = parts.workspace.document
    np.testing.assert_array_equal(doc.pixels, original)
    np.testing.assert_array_equal(parts.window.view.shown_image()[:, :, :3], original)
    assert not doc.dirty and not doc.can_undo
    assert "Cancelled" in parts.window.statusBar().currentMessage()
    assert not parts.window.error_banner.isVisible()


def test_server_down_shows_an_error_and_keeps_the_image(qtbot, make_app, tmp_path):
    parts = make_app("127.0.0.1:1", wait_for_engines=False)
    original = photo(tmp_path / "p.png")
    parts.window.open_path(tmp_path / "p.png")
    parts.window.deblur()
    finish_job(qtbot, parts)
    message = parts.window.last_message
    assert message is not None and message.title == "Server unreachable"
    assert "Start a local server" in message.text and "Traceback" not in message.text
    assert parts.window.error_banner.isVisible()
    np.testing.assert_array_equal(parts.workspace.document.pixels, original)
    assert not parts.workspace.document.dirty
    qtbot.waitUntil(lambda: "not reachable" in parts.window.server_panel.status_label.text())


def test_unreadable_file_is_reported_not_raised(qtbot, make_app, tmp_path, server):
    parts = make_app(server.address)
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert not parts.window.open_path(tmp_path / "bad.png")
    assert parts.window.last_message.title == "Not accepted"
    assert "cannot read" in parts.window.last_message.text


def test_save_keeps_sixteen_bits_and_the_icc_profile(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    pixels = np.random.default_rng(3).integers(0, 65535, (64, 80, 3)).astype(np.uint16)
    write_image(tmp_path / "deep.tif", pixels, meta=ImageMeta(srgb_icc_profile()))
    parts.window.open_path(tmp_path / "deep.tif")
    doc = parts.workspace.document
    doc.set_selection(Region(8, 8, 40, 30))
    parts.window.deblur()
    finish_job(qtbot, parts)
    assert doc.dirty
    assert parts.window.save()
    assert not doc.dirty
    back, meta = read_image_file(tmp_path / "deep.tif")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, doc.pixels)
    assert back[8, 8, 0] == 65535 - pixels[8, 8, 0] and back[0, 0, 0] == pixels[0, 0, 0]
    assert meta.icc_profile == srgb_icc_profile()


def test_save_as_jpeg_keeps_exif(qtbot, server, make_app, tmp_path, monkeypatch):
    from PIL import Image

    parts = make_app(server.address)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    Image.new("RGB", (60, 40), (30, 90, 150)).save(tmp_path / "cam.jpg", exif=exif)
    parts.window.open_path(tmp_path / "cam.jpg")
    target = tmp_path / "copy.jpg"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert parts.window.save_as_action.isEnabled()
    parts.window.save_as_action.trigger()
    assert parts.workspace.document.path == target
    assert Image.open(target).getexif()[0x010F] == "TestCam"


def test_closing_with_unsaved_changes_asks_first(qtbot, server, make_app, tmp_path,
                                                 monkeypatch):
    parts = make_app(server.address)
    photo(tmp_path / "p.png", 40, 40)
    parts.window.open_path(tmp_path / "p.png")
    parts.window.deblur()
    finish_job(qtbot, parts)
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[1]) or answers.pop(0))
    assert not parts.window.close()
    assert parts.window.isVisible()
    assert parts.window.close()
    assert asked == ["Unsaved changes", "Unsaved changes"]
    assert read_image(tmp_path / "p.png").tobytes() != parts.workspace.document.pixels.tobytes()


def test_zoom_fit_actual_size_and_wheel(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    photo(tmp_path / "big.png", 1200, 1600)
    parts.window.open_path(tmp_path / "big.png")
    view = parts.window.view
    view.fit()
    assert view.scale < 1
    whole = view.to_widget(parts.workspace.document.bounds)
    assert whole.width() <= view.width() + 1 and whole.height() <= view.height() + 1
    parts.window.actual_action.trigger()
    assert view.scale == 1.0
    centre = QPointF(view.width() / 2, view.height() / 2)
    before = view.to_image(centre)
    wheel = QWheelEvent(centre, view.mapToGlobal(centre), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(wheel)
    assert view.scale == pytest.approx(1.25)
    after = view.to_image(centre)
    assert abs(after.x() - before.x()) < 1e-6 and abs(after.y() - before.y()) < 1e-6
    drag(view, centre, centre + QPointF(50, 0), Qt.MouseButton.RightButton)  # pan
    assert view.to_image(centre).x() == pytest.approx(before.x() - 50 / 1.25)
    assert parts.workspace.document.selection is None


def test_compare_split_shows_before_left_and_after_right(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    write_image(tmp_path / "flat.png", np.full((100, 100, 3), 40, np.uint8))
    parts.window.open_path(tmp_path / "flat.png")
    parts.window.deblur()
    finish_job(qtbot, parts)
    view = parts.window.view
    parts.window.compare_action.trigger()
    assert view.compare and parts.window.split_slider.isVisible()
    parts.window.split_slider.setValue(500)
    view.fit()
    frame = view.grab().toImage()
    whole = view.to_widget(parts.workspace.document.bounds)
    y = int(whole.center().y())
    left = frame.pixelColor(int(whole.left() + whole.width() * 0.1), y)
    right = frame.pixelColor(int(whole.right() - whole.width() * 0.1), y)
    assert (left.red(), right.red()) == (40, 215)
    parts.window.compare_action.trigger()
    frame = view.grab().toImage()
    assert frame.pixelColor(int(whole.left() + whole.width() * 0.1), y).red() == 215


class OsddLike(InvertEngine):
    name = "osdd"


def test_engines_and_parameters_come_from_the_server(qtbot, start_server, make_app):
    running = start_server([OsddLike(), InvertEngine()])
    parts = make_app(running.address)
    panel = parts.window.settings_panel
    names = [panel.engine_box.itemText(i) for i in range(panel.engine_box.count())]
    assert names == ["osdd", "invert"]
    panel.engine_box.setCurrentText("osdd")
    labels = [w.text() for w in panel.controls["gamma"].findChildren(QLabel)]
    assert "fidelity" in labels and "perception" in labels
    panel.engine_box.setCurrentText("invert")
    labels = [w.text() for w in panel.controls["gamma"].findChildren(QLabel)]
    assert "fidelity" not in labels
    panel.controls["gamma"].findChild(QSlider).setValue(250)
    assert parts.settings.deblur_settings().params["gamma"] == 0.25
    assert parts.settings.deblur_settings().engine == "invert"
    status = parts.window.server_panel.status_label.text()
    assert "serving" in status and "osdd" in status


def test_drop_opens_the_file(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    photo(tmp_path / "dropped.png", 30, 30)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "dropped.png"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    parts.window.dropEvent(event)
    assert parts.workspace.document.path == tmp_path / "dropped.png"


def test_batch_dialog_runs_three_files(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    for i in range(3):
        photo(tmp_path / "in" / f"p{i}.png", 40 + i, 50)
    parts.window.batch_action.trigger()
    dialog = parts.window._batch
    dialog.add_sources([tmp_path / "in"])
    dialog.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(dialog.batch_done, timeout=20_000) as done:
        dialog.start_button.click()
    assert done.args[0] == "3 done"
    statuses = [dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())]
    assert statuses == ["done"] * 3
    for i in range(3):
        np.testing.assert_array_equal(read_image(tmp_path / "out" / f"p{i}.png"),
                                      255 - read_image(tmp_path / "in" / f"p{i}.png"))


def test_batch_dialog_explains_why_it_cannot_start(qtbot, server, make_app, tmp_path):
    parts = make_app(server.address)
    parts.window.open_batch()
    dialog = parts.window._batch
    dialog.add_sources([tmp_path])
    dialog.output_edit.setText(str(tmp_path / "missing"))
    dialog.start_button.click()
    assert "does not exist" in dialog.summary_label.text()


def test_a_job_the_server_rejects_is_explained(qtbot, start_server, make_app, tmp_path):
    from backend.types import Limits

    running = start_server(limits=Limits(max_pixels=500))
    parts = make_app(running.address)
    original = photo(tmp_path / "p.png", 60, 60)
    parts.window.open_path(tmp_path / "p.png")
    parts.window.deblur()
    finish_job(qtbot, parts)
    message = parts.window.last_message
    assert message.title == "Not accepted" and "smaller region" in message.text
    np.testing.assert_array_equal(parts.workspace.document.pixels, original)


def test_file_open_menu_opens_a_sixteen_bit_tiff(qtbot, server, make_app, tmp_path,
                                                 monkeypatch):
    parts = make_app(server.address)
    pixels = photo(tmp_path / "deep.tif", 30, 40, np.uint16)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(tmp_path / "deep.tif"), ""))
    parts.window.open_action.trigger()
    doc = parts.workspace.document
    assert doc.pixels.dtype == np.uint16
    np.testing.assert_array_equal(doc.pixels, pixels)
    shown = parts.window.view.shown_image()[:, :, 0].astype(int)
    assert np.abs(shown - pixels[:, :, 0] / 257).max() <= 1
    assert "deep.tif" in parts.window.windowTitle()


def test_a_malformed_server_address_is_explained_and_the_connection_kept(qtbot, server,
                                                                        make_app):
    parts = make_app(server.address)
    panel = parts.window.server_panel
    panel.address_edit.setText("render-box")  # no port
    panel._connect()
    message = parts.window.last_message
    assert message is not None and "must be host:port, got 'render-box'" in message.text
    assert parts.connection.address == server.address
    assert parts.connection.client.health() == "SERVING"


def test_the_seed_set_in_the_panel_reaches_the_engine(qtbot, start_server, make_app,
                                                      tmp_path):
    engine = InvertEngine()
    parts = make_app(start_server([engine]).address)
    photo(tmp_path / "p.png")
    parts.window.open_path(tmp_path / "p.png")
    parts.window.settings_panel.seed_box.setValue(7)
    parts.window.deblur()
    finish_job(qtbot, parts)
    parts.window.settings_panel.seed_box.setValue(-1)  # shown as "none"
    assert parts.window.settings_panel.seed_box.text() == "none"
    parts.window.deblur()
    finish_job(qtbot, parts)
    assert engine.seeds == [7, None]
