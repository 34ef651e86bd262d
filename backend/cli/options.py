"""Options that more than one `osdd` command takes; each command module defines the rest
and imports no other command module."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..rpc.arguments import add_connection_options, connection_from

LOG_LEVELS = ["debug", "info", "warning", "error"]


def add_log_level(parser: argparse.ArgumentParser, default: str = "warning") -> None:
    parser.add_argument("--log-level", default=default, choices=LOG_LEVELS)


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """For the commands that talk to a running server."""
    add_connection_options(parser)
    add_log_level(parser)


def client(args: argparse.Namespace):
    return connection_from(args).client()


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """For the commands that build engines in this process (serve, demo, eval)."""
    parser.add_argument("--weights", type=Path, default=os.environ.get("OSDD_WEIGHTS"),
                        help="OSDD weights folder (default: $OSDD_WEIGHTS)")
    parser.add_argument("--device", default="auto",
                        help="auto (cuda, then mps, then cpu), cpu, cuda[:N] or mps")
    parser.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                        help="auto: bf16 on GPU (fp16 without bf16), bf16 on a CPU with bf16 "
                             "matrix units, fp32 otherwise")
    parser.add_argument("--no-fuse", dest="fuse", action="store_false",
                        help="keep the adapters unfused (slower; for checking fusion)")


def engine_options(args: argparse.Namespace):
    from ..engine.registry import EngineOptions

    weights = Path(args.weights) if args.weights else None
    return EngineOptions(weights, args.device, args.dtype, args.fuse)
