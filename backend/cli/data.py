"""`osdd data ...`: make training data. numpy, scipy and torch load inside the commands,
never at import."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from ..errors import ConfigError
from ..files import write_text_atomically

# Items of synthesize's info that are arrays: too big for synth.json, and remade exactly
# from (seed, index) by the generator when needed.
_ARRAYS = ("kernels", "mask_grid")


def add_commands(sub) -> None:
    data = sub.add_parser("data", help="make training data")
    actions = data.add_subparsers(required=True, metavar="ACTION")
    synth = actions.add_parser(
        "synth", help="write synthetic camera-shake pairs: OUT/blur, OUT/sharp, OUT/synth.json")
    synth.add_argument("--sharp", type=Path, required=True, help="folder of sharp photos")
    synth.add_argument("--out", type=Path, required=True, help="folder to write (a paired: "
                                                                "dataset once done)")
    synth.add_argument("--count", type=int, required=True, help="number of pairs")
    synth.add_argument("--seed", type=int, required=True,
                       help="pair i depends only on the seed and i")
    synth.add_argument("--crop", type=int, help="square crops of this side instead of whole "
                                                "photos")
    synth.add_argument("--quality-range", default="70,95", metavar="MIN,MAX",
                       help="JPEG quality drawn for each blurred image (default 70,95)")
    synth.add_argument("--force", action="store_true",
                       help="replace the blur/, sharp/ and synth.json of a non-empty OUT")
    synth.set_defaults(run=_synth)


def _synth(args: argparse.Namespace) -> int:
    from ..images import to_uint8, write_image
    from ..train.data.degrade import SynthSettings
    from ..train.data.synthetic import SyntheticPairs

    if args.count < 1:
        raise ConfigError(f"--count must be at least 1, got {args.count}")
    settings = SynthSettings(quality_range=_int_pair(args.quality_range, "--quality-range"))
    data = SyntheticPairs(args.sharp, args.seed, crop=args.crop, length=args.count,
                          settings=settings)
    _prepare(args.out, args.force)
    items, started = [], time.monotonic()
    for index in range(args.count):
        blurred, sharp, name, info = data.sample(index)
        # 8 bits on purpose: the blurred side is 8-bit JPEG data already
        write_image(args.out / "blur" / f"{name}.png", to_uint8(blurred))
        write_image(args.out / "sharp" / f"{name}.png", to_uint8(sharp))
        items.append({"name": name, **{k: v for k, v in info.items() if k not in _ARRAYS}})
        _progress(index + 1, args.count, started)
    record = {"seed": args.seed, "count": args.count, "crop": args.crop,
              "sharp": str(args.sharp), "settings": _plain(settings), "items": items}
    _write_text(args.out / "synth.json", json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.count} pairs to {args.out} (load them with --data paired:{args.out})",
          file=sys.stderr)
    return 0


def _prepare(out: Path, force: bool) -> None:
    """Make OUT/blur and OUT/sharp; an OUT with anything in it is left alone unless
    `force`, which clears what an earlier run wrote (so no stale pairs stay behind)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ConfigError(f"{out} is not empty; choose another --out or add --force")
        for folder in (out / "blur", out / "sharp"):
            shutil.rmtree(folder, ignore_errors=True)
        (out / "synth.json").unlink(missing_ok=True)
    for folder in (out / "blur", out / "sharp"):
        folder.mkdir(parents=True, exist_ok=True)


def _progress(done: int, total: int, started: float) -> None:
    """About a hundred lines at most, whatever the count."""
    if done == total or done % max(1, total // 100) == 0:
        seconds = time.monotonic() - started
        print(f"synth {done}/{total} pairs, {seconds:.1f} s ({seconds / done:.2f} s/pair)",
              file=sys.stderr, flush=True)


def _int_pair(text: str, option: str) -> tuple[int, int]:
    try:
        low, high = (int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"{option} must look like MIN,MAX (whole numbers), got {text!r}"
                          ) from None
    return low, high


def _plain(settings) -> dict:
    from dataclasses import asdict

    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


def _write_text(path: Path, text: str) -> None:
    """synth.json appears whole, and only once every pair is on disk."""
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
