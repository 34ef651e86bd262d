"""Reading and writing image files for the command-line and desktop front ends.

Arrays are HWC uint8, uint16 or float32 (1-4 channels; 2 and 4 carry alpha last), the
same layout DeblurClient sends. PNG/JPEG/WebP/BMP go through Pillow; TIFF through
tifffile when installed (16-bit and float RGB, which Pillow cannot hold), else Pillow.
Writes are atomic: a failed write never leaves a half-written file behind.
read_image_file/write_image also carry an ImageMeta (ICC profile, EXIF) through an edit.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import InvalidRequest

log = logging.getLogger(__name__)
_TIFF = {".tif", ".tiff"}
_ORIENTATION = 0x0112
# IFD0 text tags a TIFF can hold directly (tifffile cannot write an EXIF sub-IFD):
# ImageDescription, Make, Model, Software, DateTime, Artist, Copyright.
_TIFF_TEXT_TAGS = (270, 271, 272, 305, 306, 315, 33432)


@dataclass(frozen=True)
class ImageMeta:
    """What a photo file carries besides pixels: the ICC profile and the EXIF block (as
    Pillow's Exif bytes, the orientation tag removed because reading already applied it).
    For TIFF only the IFD0 text tags of the EXIF block are kept."""

    icc_profile: bytes | None = None
    exif: bytes | None = None


def read_image(path: str | Path) -> np.ndarray:
    """Load an image as HWC, applying its EXIF orientation. Raises InvalidRequest with a
    readable message for missing or unreadable files."""
    return read_image_file(path)[0]


def read_image_file(path: str | Path) -> tuple[np.ndarray, ImageMeta]:
    """read_image, plus the file's ICC profile and EXIF metadata."""
    path = Path(path)
    if path.is_dir():
        raise InvalidRequest(f"{path} is a folder, not an image file")
    if not path.is_file():
        raise InvalidRequest(f"no such image file: {path}")
    if path.suffix.lower() in _TIFF:
        loaded = _read_tiff(path)
        if loaded is not None:
            return loaded
    if _is_deep_colour_png(path):
        log.warning("%s is a 16-bit colour PNG, which can only be read at 8 bits here; "
                    "save it as 16-bit TIFF to keep its depth", path)
    try:
        with Image.open(path) as im:
            icc = im.info.get("icc_profile") or None
            im = ImageOps.exif_transpose(im)
            exif = im.getexif()
            exif.pop(_ORIENTATION, None)
            return _from_pil(im), ImageMeta(icc, exif.tobytes() if len(exif) else None)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidRequest(f"cannot read {path} as an image: {exc}") from None


def _is_deep_colour_png(path: Path) -> bool:
    """16-bit RGB(A)/gray+alpha PNG: Pillow reads these at 8 bits."""
    with open(path, "rb") as f:
        head = f.read(26)
    return (head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
            and head[24] == 16 and head[25] in (2, 4, 6))


def _read_tiff(path: Path) -> tuple[np.ndarray, ImageMeta] | None:
    try:
        import tifffile
    except ImportError:
        return None
    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            array = page.asarray()
            tags = {tag.code: tag.value for tag in page.tags}
    except Exception as exc:  # tifffile raises many kinds; all mean "not readable"
        raise InvalidRequest(f"cannot read {path} as a TIFF image: {exc}") from None
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] > 4:
        raise InvalidRequest(f"{path}: unsupported TIFF layout {array.shape}")
    if array.dtype.kind == "f":
        array = array.astype(np.float32)
    elif array.dtype not in (np.uint8, np.uint16):
        raise InvalidRequest(f"{path}: unsupported TIFF sample type {array.dtype}")
    exif = Image.Exif()
    for code in _TIFF_TEXT_TAGS:
        if isinstance(tags.get(code), str) and tags[code]:
            exif[code] = tags[code]
    icc = tags.get(34675)
    meta = ImageMeta(bytes(icc) if icc else None, exif.tobytes() if len(exif) else None)
    return _oriented(array, int(tags.get(_ORIENTATION, 1))), meta


def _oriented(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply a TIFF/EXIF orientation value (1-8) so that row 0 is the visual top."""
    swapped = array.transpose(1, 0, 2)
    views = {2: array[:, ::-1], 3: array[::-1, ::-1], 4: array[::-1], 5: swapped,
             6: swapped[:, ::-1], 7: swapped[::-1, ::-1], 8: swapped[::-1]}
    return np.ascontiguousarray(views[orientation]) if orientation in views else array


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


def write_image(path: str | Path, image: np.ndarray, quality: int = 95,
                meta: ImageMeta | None = None) -> None:
    """Write HWC pixels to `path` (format from the suffix) atomically, with `meta`'s ICC
    profile and EXIF where the format holds them."""
    path = check_writable(path)
    suffix = path.suffix.lower()
    # A fresh name beside the target (not mkstemp, whose 0600 mode would stick to the result).
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.partial{suffix}")
    try:
        _write(Path(tmp), suffix, image, quality, meta or ImageMeta())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: str | Path) -> Path:
    """``path`` if an image can be written there (a known suffix, an existing writable
    folder); else InvalidRequest. Front ends call it before a job, not after the work."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not suffix:
        raise InvalidRequest(f"output file {path} needs a suffix such as .png or .tif")
    if suffix not in _TIFF and suffix not in Image.registered_extensions():
        raise InvalidRequest(f"output file {path}: unknown image type {suffix!r} (use .png, "
                             ".tif, .jpg or .webp)")
    folder = path.parent
    if not folder.is_dir():
        raise InvalidRequest(f"output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InvalidRequest(f"output folder {folder} is not writable")
    if path.is_dir():
        raise InvalidRequest(f"output file {path} is a folder")
    return path


def _write(tmp: Path, suffix: str, image: np.ndarray, quality: int, meta: ImageMeta) -> None:
    if suffix in _TIFF:
        try:
            import tifffile
        except ImportError:
            pass
        else:
            photometric = "minisblack" if image.shape[2] <= 2 else "rgb"
            extra = ["unassalpha"] if image.shape[2] in (2, 4) else None
            tifffile.imwrite(tmp, np.squeeze(image, 2) if image.shape[2] == 1 else image,
                             photometric=photometric, extrasamples=extra,
                             **_tiff_meta_options(meta))
            return
    im = to_pil(image, suffix)
    if image.dtype != np.uint8 and im.mode in ("L", "LA", "RGB", "RGBA"):
        log.warning("writing %s with 8 bits per sample (the image has %s samples); "
                    "write .tif to keep the full depth", suffix, image.dtype)
    options: dict[str, object] = {"quality": quality} if suffix in (".jpg", ".jpeg",
                                                                    ".webp") else {}
    if meta.icc_profile:
        options["icc_profile"] = meta.icc_profile
    if meta.exif:
        options["exif"] = meta.exif
    try:
        im.save(tmp, format=Image.registered_extensions().get(suffix), **options)
    except (KeyError, ValueError, OSError) as exc:
        raise InvalidRequest(f"cannot write a {suffix} file: {exc}") from None


def _tiff_meta_options(meta: ImageMeta) -> dict[str, object]:
    """tifffile.imwrite arguments carrying `meta`. ImageDescription and Software have their
    own arguments; tifffile's JSON shape description is left out so that it is not read
    back as the photo's description."""
    exif = Image.Exif()
    if meta.exif:
        exif.load(meta.exif)
    text = {code: exif[code] for code in _TIFF_TEXT_TAGS
            if isinstance(exif.get(code), str) and exif[code]}
    return {"iccprofile": meta.icc_profile, "metadata": None,
            "description": text.pop(270, None), "software": text.pop(305, "osdd-deblur"),
            "extratags": [(code, "s", 0, value, True) for code, value in text.items()]}


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
