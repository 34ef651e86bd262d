"""`osdd models ...`: check or make OSDD weights folders. Heavy imports (torch, diffusers)
happen inside the commands, never at import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError


def add_commands(sub) -> None:
    models = sub.add_parser("models", help="check or make OSDD weights folders")
    actions = models.add_subparsers(required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check a weights folder: files, hashes, shapes")
    verify.add_argument("folder", type=Path)
    verify.set_defaults(run=_verify)
    manifest = actions.add_parser(
        "manifest", help="write the manifest of a folder laid out by hand (e.g. SD 2.1-base's "
                         "unet/, vae/, scheduler/, text_encoder/, tokenizer/ plus adapters)")
    manifest.add_argument("folder", type=Path)
    manifest.add_argument("--timestep", type=int, default=399)
    manifest.add_argument("--prompt", default="", help="the prompt whose embedding is used")
    manifest.set_defaults(run=_manifest)
    tiny = actions.add_parser("make-tiny", help="write a tiny random-weight model (tests, demos)")
    tiny.add_argument("folder", type=Path)
    tiny.add_argument("--seed", type=int, default=0)
    tiny.set_defaults(run=_make, arch="tiny", save_dtype="fp32")
    full = actions.add_parser("make-random",
                              help="write a full-size random-weight model (benchmarks)")
    full.add_argument("folder", type=Path)
    full.add_argument("--arch", default="sd21", choices=["sd21", "tiny"])
    full.add_argument("--seed", type=int, default=0)
    full.add_argument("--save-dtype", default="fp32", choices=["fp32", "bf16", "fp16"],
                      help="dtype of the written weights (loading may cast them)")
    full.set_defaults(run=_make)


def _verify(args: argparse.Namespace) -> int:
    from ..engine.osdd.loading import verify_folder

    problems = verify_folder(args.folder)
    if problems:
        print(f"{args.folder}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"{args.folder}: OK")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from ..engine.osdd.building import versions
    from ..engine.osdd.layout import write_manifest

    if not Path(args.folder).is_dir():
        raise ConfigError(f"{args.folder} is not a folder")
    manifest = write_manifest(args.folder, args.timestep, args.prompt, "by hand", versions())
    print(f"{args.folder}: manifest of {len(manifest.files)} files written")
    return _verify(args)  # a folder put together by hand deserves the full check


def _make(args: argparse.Namespace) -> int:
    from ..engine.osdd.building import make_model
    from ..engine.osdd.devices import DTYPES

    try:
        manifest = make_model(args.folder, args.arch, args.seed,
                              dtype=DTYPES[args.save_dtype])
    except FileExistsError as exc:
        raise ConfigError(str(exc)) from None
    size = sum(f.bytes for f in manifest.files.values())
    print(f"wrote a random-weight {args.arch} model to {args.folder} "
          f"({len(manifest.files)} files, {size / 1e6:.1f} MB)")
    return 0

