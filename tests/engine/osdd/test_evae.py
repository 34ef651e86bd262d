import pytest
import torch
from diffusers import AutoencoderKL

from backend.engine.osdd import evae
from backend.engine.osdd.building import ARCHS
from backend.engine.osdd.evae import EncoderSkips


@pytest.fixture
def vae():
    torch.manual_seed(1)
    return AutoencoderKL(**ARCHS["tiny"]["vae"]).eval()


def _roundtrip(vae, skips, x):
    latent, features = evae.encode(vae, x)
    return evae.decode(vae, skips, latent, features)


@torch.no_grad()
def test_zero_skips_equal_the_plain_vae_exactly(vae):
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    plain = vae.decode(vae.encode(x).latent_dist.mode()
                       * vae.config.scaling_factor / vae.config.scaling_factor).sample
    assert torch.equal(_roundtrip(vae, EncoderSkips.for_vae(vae), x), plain)
    assert torch.equal(_roundtrip(vae, None, x), plain)


@torch.no_grad()
def test_latent_is_the_scaled_posterior_mean(vae):
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    latent, features = evae.encode(vae, x)
    expected = vae.encode(x).latent_dist.mean * vae.config.scaling_factor
    torch.testing.assert_close(latent, expected, rtol=0, atol=0)
    assert [f.shape[-1] for f in features] == [64, 32, 16, 8]


@torch.no_grad()
def test_trained_skips_carry_encoder_features_into_the_decoder(vae):
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    skips = EncoderSkips.for_vae(vae)
    plain = _roundtrip(vae, skips, x)
    torch.nn.init.normal_(skips.convs[3].weight, std=0.1)  # the full-resolution skip
    assert (_roundtrip(vae, skips, x) - plain).abs().max() > 1e-3


def test_skip_shapes_for_stable_diffusion_vae():
    with torch.device("meta"):
        vae = AutoencoderKL(**ARCHS["sd21"]["vae"])
        skips = EncoderSkips.for_vae(vae)
    shapes = [tuple(conv.weight.shape[:2]) for conv in skips.convs]
    # (out, in): 512->512, 256->512, 128->512, 128->256, as OSDD_MODEL.md fixes them
    assert shapes == [(512, 512), (512, 256), (512, 128), (256, 128)]
    assert all(conv.bias is None for conv in skips.convs)
