"""Reading and writing image files for the command-line and desktop front ends.

Arrays are HWC uint8, uint16 or float32 (1-4 channels; 2 and 4 carry alpha last), the
same layout DeblurClient sends. PNG/JPEG/WebP/BMP go through Pillow; TIFF through
tifffile when installed (16-bit and float RGB, which Pillow cannot hold), else Pillow.
Writes are atomic: a failed write never leaves a half-written file behind.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import InvalidRequest

log = logging.getLogger(__name__)
_TIFF = {".tif", ".tiff"}


def read_image(path: str | Path) -> np.ndarray:
    """Load an image as HWC, applying its EXIF orientation. Raises InvalidRequest with a
    readable message for missing or unreadable files."""
    path = Path(path)
    if not path.is_file():
        raise InvalidRequest(f"no such image file: {path}")
    if path.suffix.lower() in _TIFF:
        array = _read_tiff(path)
        if array is not None:
            return array
    if _is_deep_colour_png(path):
        log.warning("%s is a 16-bit colour PNG, which can only be read at 8 bits here; "
                    "save it as 16-bit TIFF to keep its depth", path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return _from_pil(im)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(f"cannot read {path} as an image: {exc}") from None


def _is_deep_colour_png(path: Path) -> bool:
    """16-bit RGB(A)/gray+alpha PNG: Pillow reads these at 8 bits."""
    with open(path, "rb") as f:
        head = f.read(26)
    return (head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
            and head[24] == 16 and head[25] in (2, 4, 6))


def _read_tiff(path: Path) -> np.ndarray | None:
    try:
        import tifffile
    except ImportError:
        return None
    try:
        array = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many kinds; all mean "not readable"
        raise InvalidRequest(f"cannot read {path} as a TIFF image: {exc}") from None
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] > 4:
        raise InvalidRequest(f"{path}: unsupported TIFF layout {array.shape}")
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    if array.dtype not in (np.uint8, np.uint16):
        raise InvalidRequest(f"{path}: unsupported TIFF sample type {array.dtype}")
    return array


def _from_pil(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(im, dtype=np.uint16)[:, :, None]
    if im.mode == "I":
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)[:, :, None]
    if im.mode == "F":
        return np.asarray(im, dtype=np.float32)[:, :, None]
    if im.mode not in ("L", "LA", "RGB", "RGBA"):
        has_alpha = "A" in im.getbands() or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
    array = np.asarray(im)
    return array[:, :, None] if array.ndim == 2 else array


def write_image(path: str | Path, image: np.ndarray, quality: int = 95) -> None:
    """Write HWC pixels to `path` (format from the suffix) atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not suffix:
        raise InvalidRequest(f"output file {path} needs a suffix such as .png or .tif")
    if not path.parent.is_dir():
        raise InvalidRequest(f"output folder {path.parent} does not exist")
    # A fresh name beside the target (not mkstemp, whose 0600 mode would stick to the result).
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
    try:
        _write(Path(tmp), suffix, image, quality)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(tmp: Path, suffix: str, image: np.ndarray, quality: int) -> None:
    if suffix in _TIFF:
        try:
            import tifffile
        except ImportError:
            pass
        else:
            photometric = "minisblack" if image.shape[2] <= 2 else "rgb"
            extra = ["unassalpha"] if image.shape[2] in (2, 4) else None
            tifffile.imwrite(tmp, np.squeeze(image, 2) if image.shape[2] == 1 else image,
                             photometric=photometric, extrasamples=extra)
            return
    im = to_pil(image, suffix)
    if image.dtype != np.uint8 and im.mode in ("L", "LA", "RGB", "RGBA"):
        log.warning("writing %s with 8 bits per sample (the image has %s samples); "
                    "write .tif to keep the full depth", suffix, image.dtype)
    options = {"quality": quality} if suffix in (".jpg", ".jpeg", ".webp") else {}
    try:
        im.save(tmp, format=Image.registered_extensions().get(suffix), **options)
    except (KeyError, ValueError, OSError) as exc:
        raise InvalidRequest(f"cannot write a {suffix} file: {exc}") from None


def to_pil(image: np.ndarray, suffix: str = ".png") -> Image.Image:
    """An HWC array as a Pillow image. Pillow holds 16-bit and float only for one channel;
    other deep images are reduced to 8 bits (write TIFF to keep their depth)."""
    channels = image.shape[2]
    if channels == 1 and image.dtype == np.uint16 and suffix in (".png", ".tif", ".tiff"):
        return Image.fromarray(image[:, :, 0])
    return Image.fromarray(to_uint8(image)[:, :, 0] if channels == 1 else to_uint8(image))


def to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def side_by_side(before: np.ndarray, after: np.ndarray, gap: int = 8) -> np.ndarray:
    """Before | after as one 8-bit RGB picture, for a quick visual check."""
    def rgb(a: np.ndarray) -> np.ndarray:
        a = to_uint8(a)[:, :, :3] if a.shape[2] != 2 else to_uint8(a)[:, :, :1]
        return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a

    left, right = rgb(before), rgb(after)
    spacer = np.full((left.shape[0], gap, 3), 255, np.uint8)
    return np.concatenate([left, spacer, right], axis=1)
