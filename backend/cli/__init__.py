"""The `osdd` command. One module per group of subcommands, each adding its own parsers:

  serve.py     serve, demo       (a server in this process)
  client.py    deblur, info      (talk to a running server)
  models.py    models            (check or make weights folders)
  bench.py     bench             (time the osdd engine)
  data.py      data              (make training data)
  train.py     train             (train the OSDD model, export a run)
  evaluate.py  eval              (score engines on paired test sets)
  gimp.py      bridge, gimp      (the GIMP plug-in's bridge and installer)
  gui.py       gui               (the desktop app)

options.py holds the options several of them take; no command module imports another.
Client commands import only the light client side; the engines (numpy/scipy, torch and
diffusers) load only in the commands that run them, and Qt only in `gui`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ..errors import OsddError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "info").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except OsddError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`osdd info | head`): not an error of ours. Point stdout at
        # nothing so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: `python -m backend.cli.bench` (the bench's measuring
    # child) imports this package first and should not find itself already imported.
    from . import bench, client, data, evaluate, gimp, gui, models, serve, train

    parser = argparse.ArgumentParser(prog="osdd", description="Local motion deblurring.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for module in (serve, client, models, bench, data, train, evaluate, gimp, gui):
        module.add_commands(sub)
    return parser
