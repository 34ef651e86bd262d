"""LPIPS, DISTS and EA-DISTS with the converted weights: zero for identical images, growing
with blur, in the published scale, and usable as a training loss."""

import pytest

from tests.conftest import sample_photo

from .conftest import SIGMAS, gaussian_blur, nchw

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def metrics(metric_weights):
    from backend.train.metrics import DISTS, LPIPS, EADists

    return {"lpips-alex": LPIPS("alex", metric_weights), "lpips-vgg": LPIPS("vgg", metric_weights),
            "dists": DISTS(metric_weights), "ea-dists": EADists(metric_weights)}


@pytest.fixture(scope="module")
def blur_series():
    """The astronaut (128 px centre crop) three times, against its blurs at sigma 1, 2, 4."""
    sharp = sample_photo("astronaut", 128)
    return nchw(sharp, sharp, sharp), nchw(*(gaussian_blur(sharp, s) for s in SIGMAS))


@pytest.fixture(scope="module")
def scores(metrics, blur_series):
    with torch.no_grad():
        return {name: metric(*blur_series) for name, metric in metrics.items()}


@pytest.fixture(scope="module")
def small_pair():
    """Two different 64 px photos, sharp and blurred (sigma 2)."""
    photos = [sample_photo(name, 64) for name in ("chelsea", "coffee")]
    return nchw(*photos), nchw(*(gaussian_blur(p, 2.0) for p in photos))


def test_identical_images_score_zero(metrics, small_pair):
    images = small_pair[0]
    with torch.no_grad():
        for name, metric in metrics.items():
            values = metric(images, images.clone())
            assert values.shape == (2,), name
            assert values.abs().max() < 1e-5, (name, values)


@pytest.mark.parametrize("name", ["lpips-alex", "lpips-vgg", "dists", "ea-dists"])
def test_more_blur_scores_strictly_worse(scores, name):
    values = scores[name]
    assert values.shape == (3,)
    assert 0 < values[0] < values[1] < values[2], values


def test_lpips_alex_is_on_the_published_scale(scores):
    # measured here on this crop: 0.153, 0.382, 0.568 (whole photo: 0.146, 0.323, 0.505)
    low, mid, high = scores["lpips-alex"].tolist()
    assert 0.08 < low < 0.25 and 0.3 < mid < 0.55 and 0.5 < high < 0.8


def test_each_image_of_a_batch_is_scored_on_its_own(metrics, small_pair):
    sharp, blurred = small_pair
    with torch.no_grad():
        for name, metric in metrics.items():
            batch = metric(sharp, blurred)
            alone = torch.cat([metric(sharp[i:i + 1], blurred[i:i + 1]) for i in range(2)])
            torch.testing.assert_close(batch, alone, rtol=1e-4, atol=1e-6, msg=name)


def test_ea_dists_is_a_loss_that_trains_the_input(metrics, small_pair):
    loss_fn = metrics["ea-dists"]
    sharp, blurred = small_pair[0][:1], small_pair[1][:1].clone().requires_grad_(True)
    loss = loss_fn(blurred, sharp)
    loss.sum().backward()
    grad = blurred.grad
    assert torch.isfinite(grad).all() and grad.abs().max() > 0
    assert not any(p.requires_grad or p.grad is not None for p in loss_fn.parameters())
    with torch.no_grad():  # a small step against the gradient lowers the loss
        stepped = (blurred - 1e-3 * grad / grad.abs().max()).clamp(0, 1)
        assert loss_fn(stepped, sharp) < loss


def test_sobel_edges_stay_in_range_and_ignore_flat_areas():
    from backend.train.metrics.ea_dists import sobel_magnitude

    step = torch.zeros(1, 3, 16, 16)
    step[..., 8:] = 1.0
    edges = sobel_magnitude(step)
    assert edges.shape == step.shape and torch.equal(edges[:, 0], edges[:, 2])
    assert edges.max() <= 1 and edges[..., 7:9].min() > 0.4
    assert edges[..., :6].max() < 1e-5 and edges[..., 10:].max() < 1e-5


def test_missing_weights_name_the_file_and_the_command(tmp_path):
    from backend.errors import ConfigError
    from backend.train.metrics import LPIPS
    from backend.train.metrics.weights import weight_file

    with pytest.raises(ConfigError, match=r"alexnet\.safetensors.*convert_perceptual_weights"):
        LPIPS("alex", weights_dir=tmp_path)
    (tmp_path / "dists.safetensors").mkdir()  # present, but not a file
    with pytest.raises(ConfigError, match=rf"dists\.safetensors not found in {tmp_path}"):
        weight_file("dists.safetensors", tmp_path)


def test_weights_folder_is_explicit_then_environment_then_xdg_cache(monkeypatch, tmp_path):
    from backend.train.metrics import metric_weights_dir

    monkeypatch.setenv("OSDD_METRIC_WEIGHTS", str(tmp_path / "env"))
    assert metric_weights_dir(tmp_path / "given") == tmp_path / "given"
    assert metric_weights_dir() == tmp_path / "env"
    monkeypatch.delenv("OSDD_METRIC_WEIGHTS")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert metric_weights_dir() == tmp_path / "xdg" / "osdd" / "perceptual"
    monkeypatch.setenv("HOME", str(tmp_path))
    for unset in ("", "relative/cache"):  # the XDG rule: only an absolute path counts
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert metric_weights_dir() == tmp_path / ".cache" / "osdd" / "perceptual"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert metric_weights_dir() == tmp_path / ".cache" / "osdd" / "perceptual"
