import json

import pytest
import torch

from backend.engine.osdd import layout
from backend.engine.osdd.loading import load_pipeline, verify_folder
from backend.errors import ConfigError

from .conftest import drop_files


def test_a_made_model_verifies_and_loads(tiny_weights):
    manifest = layout.read_manifest(tiny_weights)
    assert manifest.timestep == 399 and manifest.prompt == ""
    assert {"torch", "diffusers", "peft", "osdd-deblur"} <= set(manifest.versions)
    for name in (*layout.REQUIRED, layout.EVAE_SKIPS, *layout.LORA_FILES.values()):
        assert manifest.has(name), name
    assert verify_folder(tiny_weights) == []
    pipe = load_pipeline(tiny_weights)
    assert pipe.adapters.gamma_range == (0.0, 1.0)
    assert pipe.skips is not None


def test_missing_folder_or_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_pipeline(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="osdd_manifest.json is missing"):
        load_pipeline(tmp_path)


def test_truncated_weights_are_named_at_load(weights_copy):
    unet = weights_copy / "unet/diffusion_pytorch_model.safetensors"
    unet.write_bytes(unet.read_bytes()[:1000])
    with pytest.raises(ConfigError, match="unet/diffusion_pytorch_model.safetensors: 1000 bytes"):
        load_pipeline(weights_copy)
    assert any("unet/diffusion_pytorch_model" in p for p in verify_folder(weights_copy))


def test_corrupt_adapter_is_caught_by_its_hash(weights_copy):
    lora = weights_copy / "lora_real.safetensors"
    data = bytearray(lora.read_bytes())
    data[-10] ^= 0xFF
    lora.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="lora_real.safetensors: sha256 differs"):
        load_pipeline(weights_copy)


def test_verify_names_tensors_that_do_not_fit_the_config(weights_copy):
    config = weights_copy / "vae/config.json"
    raw = json.loads(config.read_text())
    raw["block_out_channels"] = [8, 8, 16, 32]
    config.write_text(json.dumps(raw))
    manifest = layout.read_manifest(weights_copy)
    layout.write_manifest(weights_copy, manifest.timestep, manifest.prompt)
    problems = verify_folder(weights_copy)
    assert any("vae/diffusion_pytorch_model.safetensors:" in p and "shape" in p
               for p in problems), problems
    assert any(p.startswith(layout.EVAE_SKIPS) for p in problems), problems


def test_manifest_without_required_files_is_refused(weights_copy):
    drop_files(weights_copy, "vae/diffusion_pytorch_model.safetensors")
    with pytest.raises(ConfigError, match="vae/diffusion_pytorch_model.safetensors: required"):
        load_pipeline(weights_copy)


def test_prompt_embedding_is_computed_once_and_cached(weights_copy, tiny_weights):
    drop_files(weights_copy, layout.PROMPT_EMBEDS)
    assert not layout.read_manifest(weights_copy).has(layout.PROMPT_EMBEDS)
    computed = load_pipeline(weights_copy).prompt_embeds
    assert layout.read_manifest(weights_copy).has(layout.PROMPT_EMBEDS)
    assert verify_folder(weights_copy) == []
    torch.testing.assert_close(computed, load_pipeline(tiny_weights).prompt_embeds)


def test_without_skips_the_decoder_is_the_plain_vae(weights_copy):
    drop_files(weights_copy, layout.EVAE_SKIPS)
    pipe = load_pipeline(weights_copy)
    assert pipe.skips is None
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        latent, _ = pipe.encode(x)
        plain = pipe.vae.decode(latent / pipe.vae.config.scaling_factor).sample
    torch.testing.assert_close(pipe.decode(latent, []), ((plain + 1) / 2).clamp(0, 1))


def test_one_adapter_fixes_gamma(weights_copy):
    drop_files(weights_copy, "lora_synthetic.safetensors")
    assert load_pipeline(weights_copy).adapters.gamma_range == (1.0, 1.0)
