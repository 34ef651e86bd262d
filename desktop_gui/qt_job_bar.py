"""QtJobBar: progress, elapsed and remaining time of the running job, and its Cancel."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from .jobs import JobProgress


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class QtJobBar(QWidget):
    """Hidden when idle. cancel_requested fires when the user presses Cancel."""

    cancel_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy until the first tile count arrives
        self.label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, what: str) -> None:
        self.progress.setRange(0, 0)
        self.label.setText(what)
        self.cancel_button.setEnabled(True)
        self.show()

    def show_progress(self, update: JobProgress) -> None:
        if update.tiles_total:
            self.progress.setRange(0, update.tiles_total)
            self.progress.setValue(update.tiles_done)
        text = f"{update.stage} {update.tiles_done}/{update.tiles_total} tiles, " \
               f"{format_seconds(update.elapsed)} elapsed"
        if update.remaining is not None:
            text += f", about {format_seconds(update.remaining)} left"
        self.label.setText(text)

    def stop(self) -> None:
        self.hide()

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("cancelling...")
        self.cancel_requested.emit()
