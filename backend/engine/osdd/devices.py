"""Device and dtype choice for the diffusion engine: cuda, then mps, then cpu."""

from __future__ import annotations

import torch

from ...errors import ConfigError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device(request: str = "auto") -> str:
    if request == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    kind = request.split(":")[0]
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": torch.backends.mps.is_available()}
    if kind not in available:
        raise ConfigError(f"unknown device {request!r}; use auto, cpu, cuda[:N] or mps")
    if not available[kind]:
        raise ConfigError(f"device {request!r} is not available on this machine")
    return request


def visible_gpus() -> list[str]:
    """cuda:0, cuda:1, ... for every CUDA device this process sees."""
    return [f"cuda:{n}" for n in range(torch.cuda.device_count())] \
        if torch.cuda.is_available() else []


def parse_devices(text: str) -> list[str]:
    """The devices of a comma-separated list ("cuda:0,cuda:1"), each checked as
    pick_device checks one ("auto" picks one device)."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise ConfigError(f"a device list names devices separated by commas, got {text!r}")
    return [pick_device(name) for name in names]


def cpu_has_bf16() -> bool:
    """Whether this CPU has bf16 matrix units (without them bf16 is slower than fp32)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def pick_dtype(request: str, device: str) -> torch.dtype:
    """auto: bf16 on CUDA when supported (else fp16), fp16 on mps, bf16 on a CPU with
    bf16 matrix units, fp32 otherwise."""
    if request != "auto":
        if request not in DTYPES:
            raise ConfigError(f"unknown dtype {request!r}; use auto, {', '.join(DTYPES)}")
        return DTYPES[request]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_has_bf16() else torch.float32


def free_memory(device: str) -> int:
    """Free bytes on a CUDA device (what a new batch may use)."""
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return free
