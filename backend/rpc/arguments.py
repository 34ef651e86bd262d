"""How a front end's command line names its server: --server, --token and --tls-ca, the
same for `osdd deblur`, `osdd info`, `osdd gui` and `python -m desktop_gui`. Options left
unset come from the environment (see ConnectionSettings.resolve)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .client import DEFAULT_ADDRESS, ConnectionSettings


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", help="host:port, or several: a:50051,b:50051 (default: "
                                         f"$OSDD_SERVER or {DEFAULT_ADDRESS})")
    parser.add_argument("--token", help="access token (default: $OSDD_TOKEN)")
    parser.add_argument("--tls-ca", type=Path, help="PEM root certificate to use TLS "
                                                    "(default: $OSDD_TLS_CA; none: plain)")


def connection_from(args: argparse.Namespace) -> ConnectionSettings:
    return ConnectionSettings.resolve(args.server, args.token, args.tls_ca)
