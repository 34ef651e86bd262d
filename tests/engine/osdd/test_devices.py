import pytest
import torch

from backend.engine.osdd.devices import pick_device, pick_dtype
from backend.errors import ConfigError


def test_auto_picks_the_best_device_present():
    expected = ("cuda" if torch.cuda.is_available() else
                "mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto") == expected
    assert pick_device("cpu") == "cpu"


def test_unknown_or_absent_devices_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda:0' is not available"):
            pick_device("cuda:0")


def test_dtype_choice():
    assert pick_dtype("fp32", "cuda") is torch.float32
    assert pick_dtype("bf16", "cpu") is torch.bfloat16
    assert pick_dtype("auto", "mps") is torch.float16
    assert pick_dtype("auto", "cpu") in (torch.float32, torch.bfloat16)
    with pytest.raises(ConfigError, match="unknown dtype 'int8'"):
        pick_dtype("int8", "cpu")
