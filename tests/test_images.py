"""Image files as the CLI and desktop app read and write them."""

import logging
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from backend.errors import InvalidRequest
from backend.images import ImageMeta, read_image, read_image_file, side_by_side, write_image

from .conftest import srgb_icc_profile


def png_16bit_rgb(path, array):
    """A minimal 16-bit RGB PNG (Pillow cannot write one)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    h, w, _ = array.shape
    rows = b"".join(b"\0" + array[y].astype(">u2").tobytes() for y in range(h))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2,
                     0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_sixteen_bit_colour_png_is_read_with_a_warning(tmp_path, caplog):
    path = tmp_path / "deep.png"
    png_16bit_rgb(path, np.full((4, 5, 3), 40000, np.uint16))
    with caplog.at_level(logging.WARNING):
        image = read_image(path)
    assert image.shape == (4, 5, 3)
    assert "16-bit colour PNG" in caplog.text


@pytest.mark.parametrize("dtype,suffix", [(np.uint16, ".tif"), (np.float32, ".tiff"),
                                          (np.uint16, ".png"), (np.uint8, ".jpg")])
def test_round_trip_keeps_depth_where_the_format_can(tmp_path, dtype, suffix):
    channels = 1 if suffix == ".png" else 3
    rng = np.random.default_rng(0)
    image = (rng.random((6, 7, channels)) * (1 if dtype == np.float32 else 200)).astype(dtype)
    write_image(tmp_path / f"x{suffix}", image)
    back = read_image(tmp_path / f"x{suffix}")
    assert back.dtype == dtype and back.shape == image.shape
    if suffix != ".jpg":
        np.testing.assert_array_equal(back, image)


def test_deep_rgb_to_png_warns_about_eight_bits(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        write_image(tmp_path / "x.png", np.zeros((3, 3, 3), np.uint16))
    assert "8 bits per sample" in caplog.text
    assert read_image(tmp_path / "x.png").dtype == np.uint8


def test_exif_orientation_is_applied(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    Image.new("RGB", (40, 20), "red").save(tmp_path / "o.jpg", exif=exif)
    assert read_image(tmp_path / "o.jpg").shape == (40, 20, 3)


def test_gray_alpha_keeps_two_channels(tmp_path):
    Image.new("LA", (5, 4), (10, 200)).save(tmp_path / "la.png")
    image = read_image(tmp_path / "la.png")
    assert image.shape == (4, 5, 2) and image[0, 0, 1] == 200


def test_failed_write_leaves_nothing_behind(tmp_path):
    with pytest.raises(InvalidRequest):
        write_image(tmp_path / "x.unknownformat", np.zeros((3, 3, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_unreadable_file_is_a_clear_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(InvalidRequest, match="cannot read"):
        read_image(tmp_path / "bad.png")


def test_side_by_side_makes_an_rgb_strip():
    gray = np.zeros((10, 12, 1), np.uint16)
    assert side_by_side(gray, gray).shape == (10, 32, 3)


def test_tiff_orientation_is_applied(tmp_path):
    import tifffile

    image = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(2, 3, 3)
    tifffile.imwrite(tmp_path / "o.tif", image, photometric="rgb",
                     extratags=[(0x0112, "H", 1, 6, True)])  # 90 degrees clockwise
    np.testing.assert_array_equal(read_image(tmp_path / "o.tif"), np.rot90(image, -1))


@pytest.mark.parametrize("dtype,suffix", [(np.uint8, ".jpg"), (np.uint8, ".png"),
                                          (np.uint16, ".tif")])
def test_icc_profile_and_exif_survive_a_round_trip(tmp_path, dtype, suffix):
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    meta = ImageMeta(srgb_icc_profile(), exif.tobytes())
    image = np.full((8, 9, 3), 100, dtype)
    write_image(tmp_path / f"m{suffix}", image, meta=meta)
    back, back_meta = read_image_file(tmp_path / f"m{suffix}")
    assert back.dtype == dtype and back.shape == image.shape
    assert back_meta.icc_profile == meta.icc_profile
    back_exif = Image.Exif()
    back_exif.load(back_meta.exif)
    assert back_exif[0x010F] == "TestCam" and back_exif[0x0110] == "Model 1"


def test_exif_sub_ifd_survives_jpeg_and_orientation_is_dropped(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8769)[0x9003] = "2024:01:02 03:04:05"  # DateTimeOriginal
    Image.new("RGB", (40, 20), "red").save(tmp_path / "o.jpg", exif=exif)
    image, meta = read_image_file(tmp_path / "o.jpg")
    write_image(tmp_path / "again.jpg", image, meta=meta)
    again = Image.open(tmp_path / "again.jpg")
    assert again.size == (20, 40)
    assert 0x0112 not in again.getexif()  # already applied: must not rotate twice
    assert again.getexif().get_ifd(0x8769)[0x9003] == "2024:01:02 03:04:05"
