import copy

import pytest
import torch

from backend.engine.osdd.dda import DualAdapter

LINEAR = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0"
CONV = "down_blocks.0.resnets.0.conv1"


def _manual(layer, x, gamma):
    """W x + gamma B_r A_r x + (1 - gamma) B_s A_s x, computed from the layer's tensors."""
    base = layer.base_layer
    out = base(x)
    for name, g in (("real", gamma), ("synthetic", 1 - gamma)):
        out = out + g * layer.lora_B[name](layer.lora_A[name](x))
    return out


@pytest.mark.parametrize("path,shape", [(LINEAR, (2, 5, 16)), (CONV, (2, 16, 8, 8))])
@torch.no_grad()
def test_an_adapted_layer_mixes_both_adapters_by_gamma(tiny_unet, path, shape):
    layer = dict(tiny_unet.named_modules())[path]
    mixer = DualAdapter(tiny_unet, fuse=False)
    x = torch.randn(shape)
    for gamma in (0.0, 0.3, 1.0):
        mixer.set_gamma(gamma)
        torch.testing.assert_close(layer(x), _manual(layer, x, gamma), rtol=1e-5, atol=1e-6)
    assert (_manual(layer, x, 0.0) - _manual(layer, x, 1.0)).abs().max() > 1e-3


def _unet_out(unet):
    torch.manual_seed(3)
    z, emb = torch.randn(1, 4, 16, 16), torch.randn(1, 77, 16)
    with torch.no_grad():
        return unet(z, 399, encoder_hidden_states=emb).sample


@pytest.mark.parametrize("fuse", [False, True])
def test_gamma_one_ignores_the_synthetic_adapter(tiny_unet, fuse):
    garbled = copy.deepcopy(tiny_unet)
    with torch.no_grad():
        for name, param in garbled.named_parameters():
            if "lora_B.synthetic" in name:
                param.normal_(std=10.0)
    DualAdapter(tiny_unet, fuse=fuse).set_gamma(1.0)
    mixer = DualAdapter(garbled, fuse=fuse)
    mixer.set_gamma(1.0)
    assert torch.equal(_unet_out(garbled), _unet_out(tiny_unet))
    mixer.set_gamma(0.9)
    assert not torch.equal(_unet_out(garbled), _unet_out(tiny_unet))


def test_fused_and_unfused_agree_and_refusing_is_exact(tiny_unet):
    mixer = DualAdapter(tiny_unet, fuse=False)
    mixer.set_gamma(0.3)
    unfused = _unet_out(tiny_unet)
    fused_mixer = DualAdapter(tiny_unet, fuse=True)
    fused_mixer.set_gamma(0.3)
    fused = _unet_out(tiny_unet)
    torch.testing.assert_close(fused, unfused, rtol=1e-4, atol=1e-5)
    fused_mixer.set_gamma(0.8)
    assert (_unet_out(tiny_unet) - fused).abs().max() > 1e-4
    fused_mixer.set_gamma(0.3)  # rebuilt from the pristine weights: bit-identical
    assert torch.equal(_unet_out(tiny_unet), fused)


def test_a_second_mixer_on_a_fused_unet_is_refused(tiny_unet):
    DualAdapter(tiny_unet, fuse=True).set_gamma(0.5)
    with pytest.raises(ValueError, match="already fused"):
        DualAdapter(tiny_unet)


def test_gamma_range_follows_the_adapters_present(tiny_unet):
    assert DualAdapter(tiny_unet).gamma_range == (0.0, 1.0)
    with pytest.raises(ValueError, match="gamma must be in"):
        DualAdapter(tiny_unet).set_gamma(1.5)
    tiny_unet.delete_adapters("synthetic")
    only_real = DualAdapter(tiny_unet)
    assert only_real.gamma_range == (1.0, 1.0)
    with pytest.raises(ValueError, match=r"\[1.0, 1.0\]"):
        only_real.set_gamma(0.5)
