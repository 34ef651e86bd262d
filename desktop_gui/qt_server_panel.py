"""QtServerPanel: server address, live health, engine/device info, an owned local server."""

from __future__ import annotations

from PyQt6.QtCore import QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from backend.errors import OsddError

from .connection import UNREACHABLE, ServerConnection, ServerStatus
from .local_server import LocalServer
from .qt_worker import QtWorker

_COLOURS = {"SERVING": "#2e7d32", "NOT_SERVING": "#ef6c00", UNREACHABLE: "#c62828"}


class QtServerPanel(QGroupBox):
    """Polls the connection's health every `poll_ms` off the UI thread. failed emits an
    exception (e.g. the local server would not start) for the window to show."""

    failed = pyqtSignal(object)

    def __init__(self, connection: ServerConnection, local: LocalServer,
                 poll_ms: int = 2000, parent: QWidget | None = None) -> None:
        super().__init__("Server", parent)
        self._connection = connection
        self._local = local
        self._probe: QtWorker | None = None
        self._starter: QtWorker | None = None
        self.address_edit = QLineEdit(connection.address)
        self.address_edit.returnPressed.connect(self._connect)
        self.connect_button = QPushButton("Connect")
        self.connect_button.clicked.connect(self._connect)
        self.local_button = QPushButton("Start local server")
        self.local_button.clicked.connect(self._toggle_local)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.address_edit, 1)
        row.addWidget(self.connect_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.local_button)
        layout.addWidget(self.status_label)
        connection.status_changed.connect(self._show)
        connection.address_changed.connect(self.address_edit.setText)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.poll)
        self._timer.start(poll_ms)
        self._show(connection.status)
        self.poll()

    @property
    def local_server(self) -> LocalServer:
        return self._local

    def poll(self) -> None:
        """Ask the server for its health now, unless a question is still open."""
        if self._probe is not None and self._probe.running:
            return
        self._probe = QtWorker.call(self._connection.probe, "osdd-probe")
        self._probe.yielded.connect(self._connection.set_status)
        self._probe.start()

    def start_local(self) -> None:
        if self._starter is not None and self._starter.running:
            return
        self._local.start()
        self.local_button.setText("Starting local server...")
        self.local_button.setEnabled(False)
        self._starter = QtWorker.call(self._local.wait_ready, "osdd-local-server")
        self._starter.yielded.connect(self._local_ready)
        self._starter.failed.connect(self._local_failed)
        self._starter.start()

    def stop_local(self) -> None:
        self._local.stop()
        self.local_button.setText("Start local server")
        self.local_button.setEnabled(True)
        self.poll()

    def _toggle_local(self) -> None:
        if self._local.running:
            self.stop_local()
        else:
            self.start_local()

    def _local_ready(self, address: str) -> None:
        self.local_button.setText("Stop local server")
        self.local_button.setEnabled(True)
        self._connection.connect(address)
        self.poll()

    def _local_failed(self, error: Exception) -> None:
        self._local.stop()
        self.local_button.setText("Start local server")
        self.local_button.setEnabled(True)
        self.failed.emit(error)

    def _connect(self) -> None:
        try:
            self._connection.connect(self.address_edit.text())
        except OsddError as exc:  # e.g. "host" without a port
            self.failed.emit(exc)
            return
        self.poll()

    def _show(self, status: ServerStatus) -> None:
        colour = _COLOURS.get(status.health, "#757575")
        owned = " (local, owned by this app)" if self._local.address == status.address else ""
        self.status_label.setText(f'<span style="color:{colour}">&#9679;</span> '
                                  f"{_escape(status.describe())}{owned}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
