"""Datasets laid out as folders: any blur folder + sharp folder matched by file stem, and
GoPro (ROOT/{train,test}/<sequence>/{blur,sharp}/*.png, matched by file name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ...errors import ConfigError
from .pairs import Pair, PairDataset, listing
from .pixels import image_files

GOPRO_SPLITS = ("train", "test")


class PairedFolders(PairDataset):
    """`blur_dir` and `sharp_dir` hold the same photos under the same file stems (the
    extensions may differ, e.g. blurred JPEGs and sharp PNGs). Item names are the stems."""

    def __init__(self, blur_dir: str | Path, sharp_dir: str | Path) -> None:
        blur_dir, sharp_dir = Path(blur_dir), Path(sharp_dir)
        pairs = match_files(_listed(blur_dir), _listed(sharp_dir), lambda p: p.stem,
                            "stem", f"{blur_dir} and {sharp_dir}")
        super().__init__(pairs, source=f"{blur_dir} and {sharp_dir}")


class GoPro(PairDataset):
    """The GoPro deblurring set: every sequence of `split` contributes its frames, named
    ``<sequence>/<stem>``. `blur_folder` may be "blur_gamma" for the gamma-averaged set."""

    def __init__(self, root: str | Path, split: str = "train", blur_folder: str = "blur"
                 ) -> None:
        if split not in GOPRO_SPLITS:
            raise ConfigError(f"GoPro split must be one of {', '.join(GOPRO_SPLITS)}, "
                              f"got {split!r}")
        base = Path(root) / split
        if not base.is_dir():
            raise ConfigError(f"{root} has no {split}/ folder: not a GoPro dataset root")
        pairs = []
        for sequence in sorted(p for p in base.iterdir() if p.is_dir()):
            found = match_files(_listed(sequence / blur_folder), _listed(sequence / "sharp"),
                                lambda p: p.name, "file name", f"GoPro sequence {sequence}")
            pairs += [Pair(p.blur, p.sharp, f"{sequence.name}/{p.blur.stem}") for p in found]
        super().__init__(pairs, source=str(base))


def match_files(blurred: list[Path], sharp: list[Path], key: Callable[[Path], str],
                what: str, where: str) -> list[Pair]:
    """Pairs of files with the same key, named by it. Files without a partner (or two files
    with one key) are an error that names them: a silently shorter dataset hides mistakes."""
    blur_keys, sharp_keys = _keyed(blurred, key, what), _keyed(sharp, key, what)
    problems = [f"{len(names)} {side} without a {other} partner: {listing(names)}"
                for side, other, names in (
                    ("blurred image(s)", "sharp", sorted(blur_keys.keys() - sharp_keys)),
                    ("sharp image(s)", "blurred", sorted(sharp_keys.keys() - blur_keys)))
                if names]
    if problems:
        raise ConfigError(f"{where}: blurred and sharp images do not match by {what}; "
                          + "; ".join(problems))
    return [Pair(blur_keys[k], sharp_keys[k], k) for k in sorted(blur_keys)]


def _keyed(files: list[Path], key: Callable[[Path], str], what: str) -> dict[str, Path]:
    keyed: dict[str, Path] = {}
    for path in files:
        if (k := key(path)) in keyed:
            raise ConfigError(f"{keyed[k]} and {path} have the same {what}: which one "
                              f"pairs with the other folder's {k!r} is ambiguous")
        keyed[k] = path
    return keyed


def _listed(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigError(f"no such folder: {folder}")
    return image_files(folder)
