#!/usr/bin/env bash
# The osdd engine's speed on a CUDA machine, with full-size (SD 2.1-base) random weights.
#
#   bash benchmarks/gpu_osdd.sh            # from the repository root or anywhere
#
# Uses a Python whose torch already sees CUDA when there is one (PYTHON=..., default
# python3; its packages are reused through --system-site-packages) and installs only what
# is missing; otherwise installs the project's pinned torch from PyPI (a CUDA build on
# Linux x86_64). Prints: per-stage time, ms per 512 tile, MP/s and peak memory for
# bf16 / fp16 / fp32 with fused and unfused adapters, FLOPs per tile and the achieved
# fraction of the GPU's measured bf16 matmul peak, then MP/s end to end on a 16.8 MP
# image through the engine's tiling and batching. WORK=DIR keeps the model between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-gpu}
WORK=${WORK:-$(mktemp -d)}

if [ ! -x "$VENV/bin/python" ]; then
    if "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null
    then
        "$PYTHON" -m venv --system-site-packages "$VENV"
    else
        "$PYTHON" -m venv "$VENV"
    fi
fi
PIP=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
if "$VENV/bin/python" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" \
        2>/dev/null; then
    # Keep the CUDA torch that is there: the project without its torch pin.
    "${PIP[@]}" --no-deps -e .
    "${PIP[@]}" "diffusers==0.42.1" "peft==0.21.2" "transformers>=5.24,<6" "safetensors>=0.6" \
        "scipy>=1.11" "grpcio>=1.85.1" "grpcio-health-checking>=1.85.1" \
        "grpcio-reflection>=1.85.1" "protobuf>=7.35.1,<8" "tifffile>=2023.1" pillow
else
    "${PIP[@]}" -e ".[server]"
fi
"$VENV/bin/python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print('device:', torch.cuda.get_device_name(), '| torch', torch.__version__)"

OSDD="$VENV/bin/osdd"
if [ ! -f "$WORK/sd21/osdd_manifest.json" ]; then
    "$OSDD" models make-random "$WORK/sd21" --arch sd21
fi
"$OSDD" bench --weights "$WORK/sd21" --device cuda --dtypes bf16,fp16,fp32 \
    --fuse fused,unfused --tile 512 --batch 1 --repeats 10 --flops
"$OSDD" bench --weights "$WORK/sd21" --device cuda --dtypes bf16 --fuse fused \
    --tile 512 --batch 8 --repeats 5 --image 4096
