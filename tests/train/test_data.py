"""The paired-image loaders on tiny hand-made folder trees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.errors import ConfigError
from backend.images import write_image
from backend.train.data.folders import GoPro, PairedFolders
from backend.train.data.realblur import RealBlur
from backend.train.data.spec import open_dataset
from backend.train.sampling import StepBatches, TrainSamples

H, W = 24, 32


def photo(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def save(path: Path, image: np.ndarray) -> np.ndarray:
    """Write `image` and return what a loader should give back (float, 3 channels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, image)
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    rgb = image.astype(np.float32) / scale
    return np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb


def as_array(tensor) -> np.ndarray:
    return tensor.numpy().transpose(1, 2, 0)


@pytest.fixture
def gopro(tmp_path):
    """Two train sequences (2 + 1 frames) and one test sequence; blur = 255 - sharp."""
    root, expected = tmp_path / "GOPRO_Large", {}
    frames = {("train", "GOPR0372_07_00"): ["000047.png", "000048.png"],
              ("train", "GOPR0374_11_01"): ["000001.png"], ("test", "GOPR0384_11_00"):
              ["000001.png"]}
    for n, ((split, seq), names) in enumerate(frames.items()):
        for m, name in enumerate(names):
            sharp = photo(10 * n + m)
            base = root / split / seq
            expected[f"{split}:{seq}/{name[:-4]}"] = (save(base / "blur" / name, 255 - sharp),
                                                      save(base / "sharp" / name, sharp))
            save(base / "blur_gamma" / name, sharp // 2)
    return root, expected


def test_gopro_reads_every_sequence_of_a_split(gopro):
    root, expected = gopro
    data = GoPro(root, "train")
    assert len(data) == 3
    for item in data:
        blur, sharp = expected[f"train:{item['name']}"]
        assert item["blur"].shape == (3, H, W) and str(item["blur"].dtype) == "torch.float32"
        np.testing.assert_array_equal(as_array(item["blur"]), blur)
        np.testing.assert_array_equal(as_array(item["sharp"]), sharp)
    assert [item["name"] for item in GoPro(root, "test")] == ["GOPR0384_11_00/000001"]


def test_gopro_can_use_the_gamma_blur_folder(gopro):
    root, expected = gopro
    item = GoPro(root, "test", blur_folder="blur_gamma")[0]
    _, sharp = expected["test:GOPR0384_11_00/000001"]
    halved = np.round(sharp * 255).astype(np.uint8) // 2
    np.testing.assert_array_equal(as_array(item["blur"]), halved / np.float32(255))


def test_gopro_sequence_with_mismatched_names_is_an_error_naming_them(gopro):
    root, _ = gopro
    seq = root / "train" / "GOPR0374_11_01"
    (seq / "sharp" / "000001.png").rename(seq / "sharp" / "000002.png")
    with pytest.raises(ConfigError) as err:
        GoPro(root, "train")
    text = str(err.value)
    assert "GOPR0374_11_01" in text and "000001.png" in text and "000002.png" in text


@pytest.mark.parametrize("split,message", [("val", "must be one of train, test"),
                                           ("test", "no test/ folder")])
def test_gopro_bad_split_or_root(tmp_path, split, message):
    (tmp_path / "train").mkdir()
    with pytest.raises(ConfigError, match=message):
        GoPro(tmp_path, split)


@pytest.fixture
def realblur(tmp_path):
    """RealBlur-J and -R lists in the dataset's own format: gt path first, then blur."""
    root, expected = tmp_path / "RealBlur", {}
    for variant in "JR":
        for split, scenes in (("train", ["scene001", "scene002"]), ("test", ["scene003"])):
            lines = []
            for n, scene in enumerate(scenes):
                rel = f"RealBlur-{variant}_ECC_IMCORR_centroid_itensity_ref/{scene}"
                sharp = photo(100 + n)
                expected[f"{rel}/blur/blur_1"] = (save(root / rel / "blur/blur_1.png", sharp // 3),
                                                  save(root / rel / "gt/gt_1.png", sharp))
                lines.append(f"{rel}/gt/gt_1.png {rel}/blur/blur_1.png")
            (root / f"RealBlur_{variant}_{split}_list.txt").write_text("\n".join(lines) + "\n")
    return root, expected


@pytest.mark.parametrize("variant", ["J", "R"])
def test_realblur_pairs_come_from_the_list_sharp_first(realblur, variant):
    root, expected = realblur
    data = RealBlur(root, variant, "train")
    assert len(data) == 2
    for item in data:
        assert f"RealBlur-{variant}_" in item["name"]
        blur, sharp = expected[item["name"]]
        np.testing.assert_array_equal(as_array(item["blur"]), blur)
        np.testing.assert_array_equal(as_array(item["sharp"]), sharp)
    assert len(RealBlur(root, variant, "test")) == 1


def test_realblur_takes_an_explicit_list(realblur, tmp_path):
    root, _ = realblur
    own = tmp_path / "mine.txt"
    own.write_text((root / "RealBlur_J_test_list.txt").read_text()
                   + (root / "RealBlur_R_test_list.txt").read_text() + "\n\n")
    assert len(RealBlur(root, list_file=own)) == 2


def test_realblur_missing_images_are_named_with_their_line(realblur):
    root, _ = realblur
    listed = root / "RealBlur_J_train_list.txt"
    listed.write_text(listed.read_text() + "nowhere/gt/gt_9.png nowhere/blur/blur_9.png\n")
    with pytest.raises(ConfigError, match=r"2 listed image\(s\) missing .*line 3: .*gt_9.png"):
        RealBlur(root, "J", "train")


def test_realblur_bad_list_line_or_variant(realblur):
    root, _ = realblur
    (root / "RealBlur_J_test_list.txt").write_text("only_one_path.png\n")
    with pytest.raises(ConfigError, match=r"test_list.txt:1: expected 'gt_path blur_path'"):
        RealBlur(root, "J", "test")
    with pytest.raises(ConfigError, match="variant must be J or R"):
        RealBlur(root, "K")


def test_paired_folders_match_by_stem_across_formats_and_depths(tmp_path):
    sharp = photo(1)
    deep = sharp.astype(np.uint16) * 257 + 7
    gray16 = deep[:, :, :1]
    smooth = np.broadcast_to(np.arange(W, dtype=np.uint8)[None, :, None] * 8, (H, W, 3))
    blur = {"a": save(tmp_path / "blur/a.jpg", smooth), "b": save(tmp_path / "blur/b.tif", deep),
            "c": save(tmp_path / "blur/c.png", gray16)}
    truth = {"a": save(tmp_path / "sharp/a.png", sharp), "b": save(tmp_path / "sharp/b.png", sharp),
             "c": save(tmp_path / "sharp/c.tiff", deep)}
    (tmp_path / "blur" / "notes.txt").write_text("not an image")
    data = PairedFolders(tmp_path / "blur", tmp_path / "sharp")
    assert [item["name"] for item in data] == ["a", "b", "c"]
    for item in data:
        got = as_array(item["blur"])
        assert got.min() >= 0 and got.max() <= 1
        tolerance = 0.03 if item["name"] == "a" else 1e-6  # a is a lossy JPEG
        np.testing.assert_allclose(got, blur[item["name"]], atol=tolerance)
        np.testing.assert_array_equal(as_array(item["sharp"]), truth[item["name"]])


def test_paired_folders_report_every_unmatched_file(tmp_path):
    for name in ("a", "b", "c"):
        save(tmp_path / "blur" / f"{name}.png", photo(0))
    for name in ("a", "d"):
        save(tmp_path / "sharp" / f"{name}.png", photo(0))
    with pytest.raises(ConfigError) as err:
        PairedFolders(tmp_path / "blur", tmp_path / "sharp")
    text = str(err.value)
    assert "2 blurred image(s) without a sharp partner: b, c" in text
    assert "1 sharp image(s) without a blurred partner: d" in text


def test_paired_folders_refuse_ambiguous_stems_and_empty_folders(tmp_path):
    save(tmp_path / "blur/a.png", photo(0))
    save(tmp_path / "blur/a.jpg", photo(0))
    save(tmp_path / "sharp/a.png", photo(0))
    with pytest.raises(ConfigError, match="same stem"):
        PairedFolders(tmp_path / "blur", tmp_path / "sharp")
    (tmp_path / "e1").mkdir(), (tmp_path / "e2").mkdir()
    with pytest.raises(ConfigError, match="no image pairs found"):
        PairedFolders(tmp_path / "e1", tmp_path / "e2")


def test_blur_and_sharp_of_different_sizes_are_an_error(tmp_path):
    save(tmp_path / "blur/a.png", photo(0))
    save(tmp_path / "sharp/a.png", photo(0)[:20])
    with pytest.raises(ConfigError, match=r"a.png is 32x24 but its sharp partner .* is 32x20"):
        PairedFolders(tmp_path / "blur", tmp_path / "sharp")[0]


def windows(crop: np.ndarray, image: np.ndarray) -> list[tuple[int, int]]:
    """Where `crop` sits in `image`."""
    size = crop.shape[0]
    return [(y, x) for y in range(image.shape[0] - size + 1)
            for x in range(image.shape[1] - size + 1)
            if np.array_equal(image[y:y + size, x:x + size], crop)]


def window_of(crop: np.ndarray, image: np.ndarray) -> tuple[int, int]:
    """Where `crop` sits in `image` (asserting it is exactly one window of it)."""
    hits = windows(crop, image)
    assert len(hits) == 1
    return hits[0]


def is_window(crop: np.ndarray, image: np.ndarray) -> bool:
    return bool(windows(crop, image))


@pytest.fixture
def inverted_pairs(tmp_path):
    sharp = save(tmp_path / "sharp/a.png", photo(5))
    save(tmp_path / "blur/a.png", 255 - photo(5))
    return tmp_path, sharp


def test_training_crops_cut_the_same_window_from_both_reproducibly(inverted_pairs):
    root, sharp = inverted_pairs
    pairs = PairedFolders(root / "blur", root / "sharp")
    assert pairs[0]["sharp"].shape == (3, H, W)  # datasets give whole images
    samples = TrainSamples(pairs, crop=9, seed=4, augment=False)
    item = samples[0]
    assert item["blur"].shape == item["sharp"].shape == (3, 9, 9)
    np.testing.assert_allclose(as_array(item["blur"]), 1 - as_array(item["sharp"]), atol=1e-6)
    first = window_of(as_array(item["sharp"]), sharp)
    assert window_of(as_array(samples[0]["sharp"]), sharp) == first
    windows = {window_of(as_array(samples[n]["sharp"]), sharp) for n in range(6)}
    assert len(windows) > 1
    with pytest.raises(ConfigError, match="smaller than the 25x25 crop"):
        TrainSamples(pairs, crop=25, seed=0)[0]


def test_training_flips_mirror_both_images_the_same_way(inverted_pairs):
    root, sharp = inverted_pairs
    samples = TrainSamples(PairedFolders(root / "blur", root / "sharp"), crop=H, seed=0)
    views = {"none": sharp, "lr": sharp[:, ::-1], "tb": sharp[::-1], "both": sharp[::-1, ::-1]}
    seen = set()
    for n in range(16):
        item = samples[n]
        got = as_array(item["sharp"])
        np.testing.assert_allclose(as_array(item["blur"]), 1 - got, atol=1e-6)
        seen |= {name for name, view in views.items() if is_window(got, view)}
    assert seen == set(views)


def test_training_samples_load_in_a_torch_data_loader_with_workers_alike(inverted_pairs):
    from torch.utils.data import DataLoader

    root, _ = inverted_pairs
    samples = TrainSamples(PairedFolders(root / "blur", root / "sharp"), crop=8, seed=2)
    alone = samples[0]["sharp"]
    loader = DataLoader(samples, batch_sampler=StepBatches(0, 1, 1), num_workers=1)
    np.testing.assert_array_equal(next(iter(loader))["sharp"][0].numpy(), alone.numpy())
    assert Image.open(root / "blur/a.png").size == (W, H)


def test_specs_open_every_kind_of_dataset(gopro, realblur, inverted_pairs, tmp_path):
    root, _ = gopro
    assert len(open_dataset(f"gopro:{root}")) == 3
    assert [i["name"] for i in open_dataset(f"GoPro:{root}:test")] == ["GOPR0384_11_00/000001"]
    gamma = open_dataset(f"gopro:{root}:test:gamma")
    assert gamma.pairs[0].blur.parent.name == "blur_gamma"
    blur_root, _ = realblur
    assert len(open_dataset(f"realblur-j:{blur_root}")) == 2
    assert "RealBlur-R_" in open_dataset(f"realblur-r:{blur_root}:test")[0]["name"]
    assert len(open_dataset(f"realblur:{blur_root / 'RealBlur_J_train_list.txt'}")) == 2
    folder, _ = inverted_pairs
    both = open_dataset(f"paired:{folder / 'blur'},{folder / 'sharp'}", crop=5, seed=9)
    assert both[0]["sharp"].shape == (3, H, W)  # crop and seed shape synthetic data only
    assert len(open_dataset(f"paired:{folder}")) == 1
    synth = open_dataset(f"synth:{folder / 'sharp'}:seed=3:length=7", crop=16, seed=1)
    assert (len(synth), synth.seed, synth.crop) == (7, 3, 16)
    assert open_dataset(f"synth:{folder / 'sharp'}", seed=4).seed == 4


@pytest.mark.parametrize("spec,message", [
    ("nope:/data", "must start with one of gopro:, realblur-j:"),
    ("/data/GOPRO_Large", "must start with one of"),
    ("gopro:", "names no path"),
    ("gopro::test", "names no path"),
    ("gopro:/data:test:train", "repeats an option"),
    ("synth:/photos:seed=many", "'seed=many' needs a whole number"),
    ("paired:/no/such/blur,/no/such/sharp", "no such folder: /no/such/blur"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ConfigError, match=message):
        open_dataset(spec)
