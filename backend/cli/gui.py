"""`osdd gui`: the desktop app, with the arguments of `python -m desktop_gui`."""

from __future__ import annotations

from desktop_gui.launch import add_arguments, run


def add_commands(sub) -> None:
    gui = sub.add_parser("gui", help="open the desktop app (needs the [desktop] extra)")
    add_arguments(gui)
    gui.set_defaults(run=run)
