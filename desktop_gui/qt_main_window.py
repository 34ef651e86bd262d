"""QtMainWindow: menus, the image view, the side panels and the deblur job's life."""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PyQt6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from backend.batch import IMAGE_SUFFIXES
from backend.errors import Cancelled, OsddError

from .connection import ServerConnection
from .document import Document
from .jobs import DeblurJob, JobFinished, JobProgress, JobUpdate, TilePainted
from .local_server import LocalServer
from .messages import UserMessage, describe
from .qt_batch_dialog import QtBatchDialog
from .qt_image_view import QtImageView
from .qt_job_bar import QtJobBar
from .qt_kernel_view import QtKernelView
from .qt_server_panel import QtServerPanel
from .qt_settings_panel import QtSettingsPanel
from .qt_worker import QtWorker
from .settings import SettingsState
from .workspace import Workspace

log = logging.getLogger(__name__)
ICONS = Path(__file__).resolve().parent / "icons"
_OPEN_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in IMAGE_SUFFIXES))
_SAVE_FILTER = "PNG (*.png);;TIFF, keeps 16 bits (*.tif *.tiff);;JPEG (*.jpg *.jpeg)"


def icon(name: str) -> QIcon:
    return QIcon(str(ICONS / f"{name}.svg"))


class QtMainWindow(QMainWindow):
    """The app's window over one Workspace. Deblur runs a DeblurJob on a QtWorker: tiles
    are painted as they arrive, the result becomes one undo step when the job is done,
    and a failed or cancelled job leaves the document as it was."""

    def __init__(self, workspace: Workspace, connection: ServerConnection,
                 settings: SettingsState, local: LocalServer, poll_ms: int = 2000) -> None:
        super().__init__()
        self._workspace = workspace
        self._connection = connection
        self._settings = settings
        self._job: DeblurJob | None = None
        self._worker: QtWorker | None = None
        self._batch: QtBatchDialog | None = None
        self.last_message: UserMessage | None = None
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.resize(1200, 800)

        self.view = QtImageView(workspace)
        self.view.zoom_changed.connect(lambda s: self.zoom_label.setText(f"{s:.0%}"))
        self.error_banner = QLabel()
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet("background:#fdecea;color:#611a15;padding:6px")
        self.error_banner.hide()
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setRange(0, 1000)
        self.split_slider.setValue(500)
        self.split_slider.valueChanged.connect(lambda v: self.view.set_split(v / 1000))
        self.split_slider.hide()
        self.job_bar = QtJobBar()
        self.job_bar.cancel_requested.connect(self.cancel_job)
        centre = QWidget()
        column = QVBoxLayout(centre)
        for widget in (self.error_banner, self.view, self.split_slider, self.job_bar):
            column.addWidget(widget, 1 if widget is self.view else 0)

        self.server_panel = QtServerPanel(connection, local, poll_ms)
        self.server_panel.failed.connect(self.show_error)
        self.settings_panel = QtSettingsPanel(settings)
        self.deblur_button = QPushButton(icon("deblur"), "Deblur selection")
        self.deblur_button.clicked.connect(self.deblur)
        side = QWidget()
        side_column = QVBoxLayout(side)
        side_column.addWidget(self.server_panel)
        side_column.addWidget(self.settings_panel)
        side_column.addWidget(self.deblur_button)
        self.kernel_view = QtKernelView()
        side_column.addWidget(self.kernel_view)
        side_column.addStretch(1)
        splitter = QSplitter()
        splitter.addWidget(centre)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([860, 340])
        self.setCentralWidget(splitter)
        self.zoom_label = QLabel("")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self._make_actions()

        workspace.document_changed.connect(self._on_document)
        workspace.busy_changed.connect(lambda _: self._update_actions())
        self._on_document(workspace.document)

    # -- actions --------------------------------------------------------------------------
    def _make_actions(self) -> None:
        def action(text: str, slot, shortcut=None, icon_name: str | None = None) -> QAction:
            act = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
            act.triggered.connect(slot)
            if shortcut is not None:
                act.setShortcut(shortcut)
            return act

        keys = QKeySequence.StandardKey
        self.open_action = action("&Open...", self.open_dialog, keys.Open, "open")
        self.save_action = action("&Save", self.save, keys.Save, "save")
        self.save_as_action = action("Save &As...", self.save_as, keys.SaveAs)
        self.batch_action = action("&Batch...", self.open_batch, "Ctrl+B")
        quit_action = action("&Quit", self.close, keys.Quit)
        self.undo_action = action("&Undo", self.undo, keys.Undo, "undo")
        self.redo_action = action("&Redo", self.redo, keys.Redo, "redo")
        self.select_all_action = action("Select &whole image", self.select_all, keys.SelectAll)
        self.select_none_action = action("Select &nothing", self.select_none, "Ctrl+Shift+A")
        self.fit_action = action("&Fit", self.view.fit, "Ctrl+0", "zoom-fit")
        self.actual_action = action("&100 %", self.view.actual_size, "Ctrl+1", "zoom-100")
        self.compare_action = action("&Compare before/after", self.set_compare, "C", "compare")
        self.compare_action.setCheckable(True)
        self.deblur_action = action("&Deblur selection", self.deblur, "Ctrl+D", "deblur")
        self.cancel_action = action("&Cancel", self.cancel_job, "Esc")

        menus = {"&File": [self.open_action, self.save_action, self.save_as_action, None,
                           self.batch_action, None, quit_action],
                 "&Edit": [self.undo_action, self.redo_action, None, self.select_all_action,
                           self.select_none_action],
                 "&View": [self.fit_action, self.actual_action, self.compare_action],
                 "&Deblur": [self.deblur_action, self.cancel_action]}
        for title, actions in menus.items():
            menu = self.menuBar().addMenu(title)
            for act in actions:
                menu.addSeparator() if act is None else menu.addAction(act)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        for act in (self.open_action, self.save_action, self.undo_action, self.redo_action,
                    self.fit_action, self.actual_action, self.compare_action,
                    self.deblur_action):
            toolbar.addAction(act)

    def _update_actions(self, _: object = None) -> None:
        doc, busy = self._workspace.document, self._workspace.busy
        has = doc is not None
        for act in (self.save_action, self.save_as_action, self.select_all_action,
                    self.select_none_action, self.fit_action, self.actual_action,
                    self.compare_action):
            act.setEnabled(has)
        self.undo_action.setEnabled(has and not busy and doc.can_undo)
        self.redo_action.setEnabled(has and not busy and doc.can_redo)
        self.deblur_action.setEnabled(has and not busy)
        self.deblur_button.setEnabled(has and not busy)
        self.cancel_action.setEnabled(busy)
        self.open_action.setEnabled(not busy)
        if doc is not None:
            what = "selection" if doc.selection else "whole image"
            self.deblur_button.setText(f"Deblur {what}")
        title = f"{doc.title}{'*' if doc.dirty else ''} - " if doc else ""
        self.setWindowTitle(f"{title}osdd deblur")

    def _on_document(self, document: Document | None) -> None:
        if document is not None:
            document.state_changed.connect(self._update_actions)
            document.selection_changed.connect(self._update_actions)
        self._update_actions()

    # -- files ----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open image", "", _OPEN_FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> bool:
        """Open `path` in place of the current document (asking about unsaved changes)."""
        if self._workspace.busy or not self._may_discard():
            return False
        try:
            document = Document.open(path)
        except OsddError as exc:
            self.show_error(exc)
            return False
        self._workspace.set_document(document)
        self.clear_error()
        h, w, c = document.pixels.shape
        self.statusBar().showMessage(f"Opened {path.name}: {w}x{h}, {c} channels, "
                                     f"{document.pixels.dtype}")
        return True

    def save(self) -> bool:
        doc = self._workspace.document
        if doc is None:
            return False
        if doc.path is None:
            return self.save_as()
        return self._save_to(doc, None)

    def save_as(self) -> bool:
        doc = self._workspace.document
        if doc is None:
            return False
        start = str(doc.path) if doc.path else ""
        name, _ = QFileDialog.getSaveFileName(self, "Save image as", start, _SAVE_FILTER)
        return self._save_to(doc, Path(name)) if name else False

    def _save_to(self, doc: Document, path: Path | None) -> bool:
        try:
            doc.save(path)
        except OsddError as exc:
            self.show_error(exc)
            return False
        self.statusBar().showMessage(f"Saved {doc.path}")
        return True

    def open_batch(self) -> None:
        if self._batch is None:
            self._batch = QtBatchDialog(self._connection, self._settings, self)
        self._batch.show()
        self._batch.raise_()

    # -- editing --------------------------------------------------------------------------
    def undo(self) -> None:
        if self._workspace.document is not None and not self._workspace.busy:
            self._workspace.document.undo()

    def redo(self) -> None:
        if self._workspace.document is not None and not self._workspace.busy:
            self._workspace.document.redo()

    def select_all(self) -> None:
        if self._workspace.document is not None:
            self._workspace.document.set_selection(self._workspace.document.bounds)

    def select_none(self) -> None:
        if self._workspace.document is not None:
            self._workspace.document.set_selection(None)

    def set_compare(self, on: bool) -> None:
        self.compare_action.setChecked(on)
        self.view.set_compare(on)
        self.split_slider.setVisible(on)

    # -- the deblur job -------------------------------------------------------------------
    @property
    def job_running(self) -> bool:
        return self._worker is not None and self._worker.running

    def deblur(self) -> None:
        doc = self._workspace.document
        if doc is None or self._workspace.busy:
            return
        try:
            job = DeblurJob(self._connection.client, doc.pixels, doc.target(),
                            self._settings.deblur_settings())
        except OsddError as exc:
            self.show_error(exc)
            return
        self.clear_error()
        self._job = job
        self._workspace.set_busy(True)
        r = job.region
        self.job_bar.start(f"Deblurring {r.width}x{r.height} at {r.x},{r.y}...")
        self._worker = QtWorker(job.run, "osdd-deblur")
        self._worker.yielded.connect(self._on_update)
        self._worker.failed.connect(self._on_failed)
        self._worker.finished.connect(self._on_finished)
        self._worker.start()

    def cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _on_update(self, update: JobUpdate) -> None:
        doc = self._workspace.document
        if isinstance(update, TilePainted):
            self.view.paint_tile(update.region, update.pixels)
        elif isinstance(update, JobProgress):
            self.job_bar.show_progress(update)
        elif isinstance(update, JobFinished) and doc is not None:
            doc.apply(update.region, update.pixels)
            self.kernel_view.show_kernel(update.kernel, update.engine)
            self.statusBar().showMessage(f"Deblurred in {update.seconds:.1f} s with "
                                         f"{update.engine} on {update.device}")

    def _on_failed(self, error: BaseException) -> None:
        if self._job is not None:
            self.view.restore(self._job.region)
        if isinstance(error, Cancelled):
            self.statusBar().showMessage("Cancelled; the image is unchanged")
        else:
            self.show_error(error)

    def _on_finished(self) -> None:
        self._job = None
        self.job_bar.stop()
        self._workspace.set_busy(False)

    # -- messages -------------------------------------------------------------------------
    def show_error(self, error: BaseException) -> None:
        """Show what went wrong and what to do, in the window and in a message box."""
        message = describe(error)
        self.last_message = message
        self.error_banner.setText(f"<b>{message.title}</b>: "
                                  f"{message.text.replace(chr(10), '<br>')}")
        self.error_banner.show()
        self.statusBar().showMessage(message.title)
        box = QMessageBox(QMessageBox.Icon.Warning, message.title, message.text,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def clear_error(self) -> None:
        self.error_banner.hide()

    # -- closing and dropping -------------------------------------------------------------
    def _may_discard(self) -> bool:
        """True when there are no unsaved changes, or the user saved or discarded them."""
        doc = self._workspace.document
        if doc is None or not doc.dirty:
            return True
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        answer = QMessageBox.question(self, "Unsaved changes",
                                      f"{doc.title} has changes that are not saved.",
                                      buttons, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self._may_discard():
            event.ignore()
            return
        self.cancel_job()
        if self._worker is not None:
            self._worker.join(5)
        if self._batch is not None:
            self._batch.reject()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])
