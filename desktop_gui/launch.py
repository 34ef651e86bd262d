"""Starting the desktop app from a command line. `python -m desktop_gui` and `osdd gui`
take the same arguments, defined here; Qt loads only when the app runs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from backend.errors import OsddError
from backend.rpc.arguments import add_connection_options, connection_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="images to open")
    add_connection_options(parser)
    parser.add_argument("--start-server", action="store_true",
                        help="start a local server owned by the app instead of connecting")
    parser.add_argument("--log-level", default="warning",
                        choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace) -> int:
    """Open the app with parsed arguments; OsddError when PyQt6 is missing."""
    try:
        from .app import main as app_main
    except ImportError as exc:
        if not (exc.name or "").startswith("PyQt6"):
            raise
        raise OsddError(f"the desktop app needs PyQt6 (pip install -e '.[desktop]'): {exc}"
                        ) from None
    return app_main(args.files, connection=connection_from(args),
                    start_server=args.start_server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_gui",
                                     description="The osdd desktop app (the same as `osdd "
                                                 "gui`).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except OsddError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
