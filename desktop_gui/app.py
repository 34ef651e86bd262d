"""The composition root: creates the state objects, the window and the local server, and
wires them together. Nothing else in the app creates long-lived objects."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PyQt6.QtWidgets import QApplication

from backend.rpc.client import DEFAULT_ADDRESS, ConnectionSettings

from .connection import ServerConnection, ServerStatus
from .local_server import LocalServer
from .qt_main_window import QtMainWindow, icon
from .settings import SettingsState
from .workspace import Workspace

log = logging.getLogger(__name__)


@dataclass
class DesktopApp:
    """Everything the app is made of; shutdown() releases the server and the connection."""

    workspace: Workspace
    connection: ServerConnection
    settings: SettingsState
    local_server: LocalServer
    window: QtMainWindow

    def shutdown(self) -> None:
        self.local_server.stop()
        self.connection.close()


def build(connection: ConnectionSettings | str = DEFAULT_ADDRESS,
          poll_ms: int = 2000) -> DesktopApp:
    """Create and wire the app (a QApplication must exist) for a server: its settings, or
    just its address (then token and TLS come from the environment)."""
    workspace = Workspace()
    if isinstance(connection, str):
        connection = ConnectionSettings.resolve(connection)
    connection = ServerConnection(connection)
    settings = SettingsState()
    # An owned server needs no long grace: the app cancels its job before stopping it.
    local_server = LocalServer(extra_args=("--grace", "2"))

    def offer_engines(status: ServerStatus) -> None:
        if status.info is not None:
            settings.set_info(status.info)

    connection.status_changed.connect(offer_engines)
    window = QtMainWindow(workspace, connection, settings, local_server, poll_ms)
    return DesktopApp(workspace, connection, settings, local_server, window)


def main(files: Sequence[Path] = (), connection: ConnectionSettings | None = None,
         start_server: bool = False) -> int:
    """Run the app until its window closes; the exit status of the event loop."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("osdd deblur")
    app.setDesktopFileName("osdd-deblur")
    app.setWindowIcon(icon("app"))
    parts = build(connection or ConnectionSettings.resolve())
    app.aboutToQuit.connect(parts.shutdown)
    _show_uncaught_errors(parts.window)
    parts.window.show()
    if start_server:
        parts.window.server_panel.start_local()
    if files:
        parts.window.open_path(Path(files[0]))
    try:
        return app.exec()
    finally:
        parts.shutdown()


def _show_uncaught_errors(window: QtMainWindow) -> None:
    """A bug in a slot would otherwise abort the app (PyQt's default); log it and tell."""
    def hook(kind: type[BaseException], error: BaseException,
             trace: TracebackType | None) -> None:
        log.error("uncaught error", exc_info=(kind, error, trace))
        window.show_error(error)

    sys.excepthook = hook
