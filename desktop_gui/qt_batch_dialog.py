"""QtBatchDialog: deblur many files with the current settings, with a per-file queue."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backend.batch import IMAGE_SUFFIXES, BatchItem, BatchRun, ItemUpdate, plan_batch, summary
from backend.errors import OsddError

from .connection import ServerConnection
from .qt_worker import QtWorker
from .settings import SettingsState

_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in IMAGE_SUFFIXES))


class QtBatchDialog(QDialog):
    """Sources (files or folders), an output folder, Start and Cancel; the table shows
    each file's status, progress and, for failures, the reason. batch_done fires with
    the summary text when a run ends."""

    batch_done = pyqtSignal(str)

    def __init__(self, connection: ServerConnection, settings: SettingsState,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch deblur")
        self._connection = connection
        self._settings = settings
        self._run: BatchRun | None = None
        self._worker: QtWorker | None = None
        self.sources = QListWidget()
        add_files, add_folder, clear = (QPushButton("Add files..."),
                                        QPushButton("Add folder..."), QPushButton("Clear"))
        add_files.clicked.connect(self._pick_files)
        add_folder.clicked.connect(self._pick_folder)
        clear.clicked.connect(self.sources.clear)
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("output folder")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._pick_output)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["File", "Status", "Progress", "Reason"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        buttons = QHBoxLayout()
        for button in (add_files, add_folder, clear):
            buttons.addWidget(button)
        out_row = QHBoxLayout()
        out_row.addWidget(QLabel("Output folder"))
        out_row.addWidget(self.output_edit, 1)
        out_row.addWidget(browse)
        run_row = QHBoxLayout()
        run_row.addStretch(1)
        run_row.addWidget(self.start_button)
        run_row.addWidget(self.cancel_button)
        for part in (self.sources, buttons, out_row, run_row, self.table, self.summary_label):
            (layout.addLayout if isinstance(part, QHBoxLayout) else layout.addWidget)(part)
        self.resize(720, 520)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.running

    def add_sources(self, paths: list[Path]) -> None:
        for path in paths:
            self.sources.addItem(str(path))

    def start(self) -> None:
        if self.running:
            return
        paths = [Path(self.sources.item(i).text()) for i in range(self.sources.count())]
        try:
            if not self.output_edit.text().strip():
                raise OsddError("choose an output folder")
            items = plan_batch(paths, Path(self.output_edit.text().strip()))
        except OsddError as exc:
            self.summary_label.setText(f"Cannot start: {exc}")
            return
        self._fill_table(items)
        self.summary_label.setText(f"Deblurring {len(items)} files...")
        client = self._connection.client
        # One file in flight per server the connection names.
        self._run = BatchRun(client, items, self._settings.deblur_settings(),
                             workers=client.resends + 1)
        self._worker = QtWorker(self._run.run, "osdd-batch")
        self._worker.yielded.connect(self._update_row)
        self._worker.failed.connect(lambda exc: self.summary_label.setText(f"Stopped: {exc}"))
        self._worker.finished.connect(self._finished)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._worker.start()

    def cancel(self) -> None:
        if self._run is not None:
            self._run.cancel()
            self.cancel_button.setEnabled(False)

    def _fill_table(self, items: list[BatchItem]) -> None:
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            self._show_item(row, item)

    def _update_row(self, update: ItemUpdate) -> None:
        self._show_item(update.index, update.item)

    def _show_item(self, row: int, item: BatchItem) -> None:
        cells = (item.source.name, item.status, f"{item.fraction:.0%}", item.error)
        for column, text in enumerate(cells):
            self.table.setItem(row, column, QTableWidgetItem(text))

    def _finished(self) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        text = summary(self._run.items) if self._run else ""
        self.summary_label.setText(text)
        self.batch_done.emit(text)

    def _pick_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Images to deblur", "", _FILTER)
        self.add_sources([Path(f) for f in files])

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images")
        if folder:
            self.add_sources([Path(folder)])

    def _pick_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder")
        if folder:
            self.output_edit.setText(folder)

    def reject(self) -> None:
        """Closing the dialog cancels a running batch rather than orphaning it."""
        self.cancel()
        super().reject()
