"""RealBlur-J / RealBlur-R: the dataset root plus one of its pair lists
(RealBlur_{J,R}_{train,test}_list.txt), whose lines are ``gt_path blur_path`` relative
to the root, the sharp (ground truth) image first."""

from __future__ import annotations

from pathlib import Path

from ...errors import ConfigError
from .pairs import Pair, PairDataset, listing

REALBLUR_VARIANTS = ("J", "R")
REALBLUR_SPLITS = ("train", "test")


def realblur_list(root: str | Path, variant: str = "J", split: str = "train") -> Path:
    """Where the dataset keeps the pair list of `variant` and `split`."""
    if variant.upper() not in REALBLUR_VARIANTS or split not in REALBLUR_SPLITS:
        raise ConfigError(f"RealBlur variant must be J or R and split train or test, got "
                          f"{variant!r} and {split!r}")
    return Path(root) / f"RealBlur_{variant.upper()}_{split}_list.txt"


class RealBlur(PairDataset):
    """Pairs listed in `list_file` (default: the root's list for `variant` and `split`).
    Item names are the blurred image's path relative to the root, without its suffix."""

    def __init__(self, root: str | Path, variant: str = "J", split: str = "train",
                 list_file: str | Path | None = None) -> None:
        root = Path(root)
        listed = Path(list_file) if list_file else realblur_list(root, variant, split)
        super().__init__(read_pair_list(listed, root), source=str(listed))


def read_pair_list(list_file: Path, root: Path) -> list[Pair]:
    """The pairs of a RealBlur list. Columns after the second are ignored; blank lines are
    skipped; a missing image is an error that names the list line."""
    try:
        lines = list_file.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read the pair list {list_file}: {exc.strerror}") from None
    pairs, missing = [], []
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 2:
            raise ConfigError(f"{list_file}:{number}: expected 'gt_path blur_path', "
                              f"got {line.strip()!r}")
        sharp, blur = root / fields[0], root / fields[1]
        missing += [f"line {number}: {p}" for p in (sharp, blur) if not p.is_file()]
        pairs.append(Pair(blur, sharp, Path(fields[1]).with_suffix("").as_posix()))
    if missing:
        raise ConfigError(f"{list_file}: {len(missing)} listed image(s) missing under "
                          f"{root}: {listing(missing, 5)}")
    return pairs
