"""Dataset specs, the strings training and evaluation commands take as ``--data SPEC``:

    gopro:ROOT[:train|:test][:gamma]   GoPro_Large layout; gamma reads blur_gamma/
    realblur-j:ROOT[:train|:test]      RealBlur-J through RealBlur_J_<split>_list.txt
    realblur-r:ROOT[:train|:test]      the same for RealBlur-R
    realblur:LIST_FILE                 any RealBlur-style list, paths relative to its folder
    paired:BLUR_DIR,SHARP_DIR          two folders matched by file stem
    paired:DIR                         DIR/blur and DIR/sharp (what `osdd data synth` writes)
    synth:SHARP_DIR[:seed=N][:length=N] synthetic camera shake made on the fly
    bench:DIR[:quick|:full]            the benchmark protocol on a bench folder (photos +
                                       kernels.npz); quick: photo i with kernel i

The split defaults to train. Options are the colon-separated words at the end, so a path
may itself hold colons (C:\\photos)."""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset

from ...errors import ConfigError
from .bench import BenchPairs
from .folders import GOPRO_SPLITS, GoPro, PairedFolders
from .realblur import RealBlur
from .synthetic import SyntheticPairs

# kind -> the option words it takes (a trailing "=" marks a key=integer option)
_OPTIONS = {"gopro": (*GOPRO_SPLITS, "gamma"), "realblur-j": GOPRO_SPLITS,
            "realblur-r": GOPRO_SPLITS, "realblur": (), "paired": (),
            "synth": ("seed=", "length="), "bench": ("quick", "full")}


def open_dataset(spec: str, crop: int | None = None, seed: int = 0) -> Dataset:
    """The dataset `spec` names (grammar in this module's docstring). Paired data comes as
    whole images (training crops and flips them per sample). `crop` and `seed` shape
    synthetic data, which is made at the crop size; a synthetic spec's own seed wins."""
    kind, path, options = parse_spec(spec)
    split = next((o for o in options if o in GOPRO_SPLITS), "train")
    if kind == "gopro":
        return GoPro(path, split, "blur_gamma" if "gamma" in options else "blur")
    if kind in ("realblur-j", "realblur-r"):
        return RealBlur(path, kind[-1].upper(), split)
    if kind == "realblur":
        listed = Path(path)
        return RealBlur(listed.parent, list_file=listed)
    if kind == "paired":
        blur_dir, _, sharp_dir = path.partition(",")
        if not sharp_dir:
            blur_dir, sharp_dir = str(Path(path) / "blur"), str(Path(path) / "sharp")
        return PairedFolders(blur_dir, sharp_dir)
    if kind == "bench":
        return BenchPairs(path, full="full" in options)
    values = dict(o.split("=") for o in options)
    length = int(values["length"]) if "length" in values else None
    return SyntheticPairs(path, int(values.get("seed", seed)), crop=crop, length=length)


def parse_spec(spec: str) -> tuple[str, str, list[str]]:
    """(kind, path, option words) of a spec, checked against what each kind takes."""
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in _OPTIONS:
        raise ConfigError(f"dataset spec {spec!r} must start with one of "
                          f"{', '.join(k + ':' for k in _OPTIONS)}")
    options: list[str] = []
    while ":" in rest and _is_option(kind, last := rest.rsplit(":", 1)[1]):
        options.insert(0, last)
        rest = rest.rsplit(":", 1)[0]
    if not rest.strip():
        raise ConfigError(f"dataset spec {spec!r} names no path")
    if sum(o in GOPRO_SPLITS for o in options) > 1 or len(set(options)) < len(options):
        raise ConfigError(f"dataset spec {spec!r} repeats an option")
    return kind, rest, options


def _is_option(kind: str, word: str) -> bool:
    if word in _OPTIONS[kind]:
        return True
    key, sep, value = word.partition("=")
    if sep and f"{key}=" in _OPTIONS[kind]:
        if not value.isdigit():
            raise ConfigError(f"dataset option {word!r} needs a whole number")
        return True
    return False
