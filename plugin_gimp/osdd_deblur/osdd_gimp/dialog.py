"""The interactive dialog (GimpUi): the procedure's arguments, last-used values restored
by GIMP, engine choice explained by what the server reports."""

from __future__ import annotations

import gi

gi.require_version("GimpUi", "3.0")
from gi.repository import GimpUi  # noqa: E402


def show_dialog(procedure, config, server_note: str) -> bool:
    """True when the user pressed OK. server_note: what the server offers (or why it
    could not be asked), shown above the settings."""
    GimpUi.init("osdd_deblur")
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Motion Deblur (OSDD)")
    dialog.get_label("server-note", server_note, False, False)
    dialog.get_widget("gamma", GimpUi.SpinScale.__gtype__)
    dialog.get_label("advanced-title", "Advanced", False, False)
    dialog.fill_box("advanced-box", ["tile-size", "margin", "seed", "server", "token",
                                     "tls-ca", "autostart"])
    dialog.fill_expander("advanced", "advanced-title", False, "advanced-box")
    dialog.fill(["server-note", "engine", "gamma", "output", "advanced"])
    accepted = dialog.run()
    dialog.destroy()
    return accepted
