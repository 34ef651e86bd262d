"""The synthetic camera-shake generator, its dataset and `osdd data synth`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend.cli import main
from backend.errors import ConfigError
from backend.images import write_image
from backend.train.data.degrade import SynthSettings, blur_with, smooth_masks, synthesize
from backend.train.data.kernels import random_kernel
from backend.train.data.spec import open_dataset
from backend.train.data.synthetic import SyntheticPairs


def texture(size: int = 128, seed: int = 0) -> np.ndarray:
    """A gray photo-like texture (R = G = B, so JPEG chroma subsampling loses nothing)."""
    from scipy import ndimage

    noise = np.random.default_rng(seed).random((size, size))
    gray = ndimage.gaussian_filter(noise, 1.5)
    gray = (gray - gray.min()) / np.ptp(gray) * 0.8 + 0.1
    return np.repeat(gray[:, :, None], 3, axis=2).astype(np.float32)


def gradient_energy(image: np.ndarray) -> float:
    return float(np.mean(np.diff(image, axis=0) ** 2) + np.mean(np.diff(image, axis=1) ** 2))


@pytest.mark.parametrize("seed", range(20))
def test_kernels_are_normalised_centred_and_within_their_size_range(seed):
    kernel = random_kernel(np.random.default_rng(seed))
    size = kernel.shape[0]
    assert kernel.shape == (size, size) and size % 2 == 1 and 15 <= size <= 65
    assert kernel.dtype == np.float32 and kernel.min() >= 0
    assert abs(float(kernel.sum()) - 1) < 1e-5
    ys, xs = np.nonzero(kernel)
    assert np.ptp(ys) > size / 2 or np.ptp(xs) > size / 2, "the path should fill its support"
    grid = np.arange(size)
    centre = (size - 1) / 2
    assert abs(float(kernel.sum(1) @ grid) - centre) < 1e-3
    assert abs(float(kernel.sum(0) @ grid) - centre) < 1e-3


def test_kernel_sizes_follow_the_range_and_the_seed():
    sizes = {random_kernel(np.random.default_rng(s), (20, 26)).shape[0] for s in range(40)}
    assert sizes == {21, 23, 25}
    a, b = (random_kernel(np.random.default_rng(7)) for _ in range(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, random_kernel(np.random.default_rng(8)))
    with pytest.raises(ConfigError, match="no odd size"):
        random_kernel(np.random.default_rng(0), (30, 30))


def test_spatially_varying_masks_are_smooth_positive_and_sum_to_one():
    grid = np.random.default_rng(1).normal(size=(4, 2, 3)) * 3
    masks = smooth_masks(grid, (120, 170))
    assert masks.shape == (4, 120, 170) and masks.min() > 0
    np.testing.assert_allclose(masks.sum(axis=0), 1, atol=1e-6)
    steepest = max(np.abs(np.diff(masks, axis=a)).max() for a in (1, 2))
    assert steepest < 0.1, "a mask should change over many pixels, not jump"
    assert np.ptp(masks[0]) > 0.3, "the blend should actually vary over the image"


def test_synthesis_is_a_function_of_the_seed():
    sharp = texture()
    first, info = synthesize(sharp, np.random.default_rng(3))
    again, _ = synthesize(sharp, np.random.default_rng(3))
    other, _ = synthesize(sharp, np.random.default_rng(4))
    assert first.tobytes() == again.tobytes()
    assert not np.array_equal(first, other)
    assert first.shape == sharp.shape and first.dtype == np.float32
    np.testing.assert_array_equal(np.round(first * 255) / 255, first)  # 8-bit values
    assert 70 <= info["jpeg_quality"] <= 95 and info["kernel_sizes"]


@pytest.mark.parametrize("share,counts", [(0.0, {1}), (1.0, {2, 3, 4})])
def test_part_of_the_samples_blend_two_to_four_kernels(share, counts):
    settings = SynthSettings(varying_share=share)
    infos = [synthesize(texture(64), np.random.default_rng(s), settings)[1] for s in range(12)]
    assert {len(i["kernels"]) for i in infos} <= counts
    assert all(i["varying"] == (share == 1.0) for i in infos)
    default = [synthesize(texture(48), np.random.default_rng(s))[1]["varying"]
               for s in range(30)]
    assert 0 < sum(default) < 30


@pytest.mark.parametrize("seed", range(4))
def test_blurred_output_differs_and_is_blurrier(seed):
    sharp = texture(160, seed)
    blurred, _ = synthesize(sharp, np.random.default_rng(seed))
    assert np.abs(blurred - sharp).mean() > 0.01
    assert gradient_energy(blurred) < 0.5 * gradient_energy(sharp)


def test_noise_is_present_and_at_photo_levels():
    flat = np.full((96, 96, 3), 0.5, np.float32)
    spread = [float(synthesize(flat, np.random.default_rng(s))[0].std()) for s in range(8)]
    assert 0.5 / 255 < np.median(spread) and max(spread) < 0.04
    silent = SynthSettings(shot_noise=(1e-12, 1e-12), read_noise=(1e-12, 1e-12))
    assert synthesize(flat, np.random.default_rng(0), silent)[0].std() < 0.5 / 255


def test_highlights_smear_brighter_than_plain_blur():
    scene = np.full((96, 96, 3), 0.2, np.float32)
    scene[40:56, 40:56] = 1.0  # a light source
    ring = np.ones((96, 96), bool)
    ring[36:60, 36:60] = False
    calm, boosted = (synthesize(scene, np.random.default_rng(2),
                                SynthSettings(highlight_gain=(g, g)))[0] for g in (0.0, 1.0))
    assert boosted[ring].mean() > calm[ring].mean() + 0.005


def test_jpeg_quality_is_drawn_from_the_settings():
    settings = SynthSettings(quality_range=(81, 82))
    qualities = {synthesize(texture(32), np.random.default_rng(s), settings)[1]["jpeg_quality"]
                 for s in range(10)}
    assert qualities == {81, 82}
    with pytest.raises(ConfigError, match="quality range"):
        SynthSettings(quality_range=(90, 70))


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for n in range(3):
        write_image(folder / f"p{n}.png", (texture(112, n) * 255).astype(np.uint8))
    return folder


def test_item_i_depends_only_on_seed_and_i(photos):
    data = SyntheticPairs(photos, seed=11, crop=48, length=6)
    forward = [data.sample(i) for i in range(6)]
    backward = SyntheticPairs(photos, seed=11, crop=48, length=6)
    for i in reversed(range(6)):
        blur, sharp, name, _ = backward.sample(i)
        assert name == forward[i][2] and blur.tobytes() == forward[i][0].tobytes()
        assert sharp.tobytes() == forward[i][1].tobytes()
    assert [f[2] for f in forward] == ["000000_p0", "000001_p1", "000002_p2", "000003_p0",
                                       "000004_p1", "000005_p2"]
    other = SyntheticPairs(photos, seed=12, crop=48, length=6).sample(2)[0]
    assert not np.array_equal(other, forward[2][0])
    item = data[4]
    assert item["blur"].shape == item["sharp"].shape == (3, 48, 48)
    assert len(SyntheticPairs(photos, seed=0)) == 3
    with pytest.raises(IndexError):
        data.sample(6)


def test_a_crop_is_blurred_with_the_real_photo_around_it(photos):
    """Noise, highlights and JPEG switched off, a cropped item equals the same crop of
    the whole photo blurred with the item's kernel, right up to the crop's edges."""
    clean = SynthSettings(varying_share=0.0, shot_noise=(1e-12, 1e-12),
                          read_noise=(1e-12, 1e-12), highlight_gain=(0.0, 0.0),
                          quality_range=(100, 100))
    photo = texture(112, 0)
    for index in (0, 3):
        blurred, sharp, _, info = SyntheticPairs(photos, 5, crop=40, length=4,
                                                 settings=clean).sample(index)
        (y, x), kernel = info["origin"], info["kernels"][0]
        whole = blur_with(photo.astype(np.float32) ** 2.2, [kernel])[0] ** (1 / 2.2)
        expected = whole[y:y + 40, x:x + 40]
        mirrored = blur_with(sharp ** 2.2, [kernel])[0] ** (1 / 2.2)
        edge = np.ones((40, 40), bool)
        edge[6:-6, 6:-6] = False
        error = np.abs(blurred - expected)[edge]
        assert error.max() < 3 / 255
        assert np.abs(mirrored - expected)[edge].mean() > 5 * error.mean()


def synth(sharp, out, *extra):
    return main(["data", "synth", "--sharp", str(sharp), "--out", str(out), "--count", "3",
                 "--seed", "5", "--crop", "96", *extra])


def files_of(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_data_synth_writes_a_paired_dataset_the_same_way_twice(bench_folder, tmp_path,
                                                                capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert synth(bench_folder, first) == 0 and synth(bench_folder, second) == 0
    assert "synth 3/3 pairs" in capsys.readouterr().err
    written = files_of(first)
    names = ["000000_astronaut", "000001_camera", "000002_chelsea"]
    assert set(written) == {"synth.json"} | {f"{side}/{n}.png" for side in ("blur", "sharp")
                                              for n in names}
    assert written == files_of(second)
    record = json.loads(written["synth.json"])
    assert (record["seed"], record["count"], record["crop"]) == (5, 3, 96)
    assert record["settings"]["quality_range"] == [70, 95]
    for item, name in zip(record["items"], names, strict=True):
        assert item["name"] == name and item["source"] == name.split("_", 1)[1] + ".png"
        assert 70 <= item["jpeg_quality"] <= 95 and item["kernel_sizes"]
        assert item["shot_noise"] > 0 and "kernels" not in item
    data = open_dataset(f"paired:{first}")
    assert [item["name"] for item in data] == names
    blur, _, _, _ = SyntheticPairs(bench_folder, 5, crop=96, length=3).sample(1)
    np.testing.assert_allclose(data[1]["blur"].numpy().transpose(1, 2, 0), blur, atol=1e-6)


def test_data_synth_keeps_a_non_empty_folder_unless_forced(bench_folder, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert synth(bench_folder, out) == 1
    assert "not empty" in capsys.readouterr().err and not (out / "blur").exists()
    (out / "blur").mkdir()
    (out / "blur" / "stale.png").write_bytes(b"old")
    assert synth(bench_folder, out, "--force", "--quality-range", "90,90") == 0
    assert not (out / "blur" / "stale.png").exists() and (out / "keep.txt").exists()
    record = json.loads((out / "synth.json").read_text())
    assert {item["jpeg_quality"] for item in record["items"]} == {90}
    assert synth(bench_folder, tmp_path / "x", "--quality-range", "high") == 1
    assert "--quality-range must look like MIN,MAX" in capsys.readouterr().err
