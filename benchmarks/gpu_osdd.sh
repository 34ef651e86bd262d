#!/usr/bin/env bash
# The osdd engine's speed on a CUDA machine, with full-size (SD 2.1-base) random weights.
#
#   bash benchmarks/gpu_osdd.sh            # from anywhere; WORK=DIR keeps the model
#
# Runs the project from this checkout (no install of the project itself). Python: a venv
# (.venv-gpu) on top of PYTHON (default python3) that reuses its CUDA torch and gets only
# the packages that are missing; if PYTHON has no CUDA torch, the venv gets the project's
# pinned torch from PyPI (a CUDA build on Linux x86_64). Prints per-stage time, ms per
# 512 tile, MP/s and peak memory for bf16 / fp16 / fp32 with fused and unfused adapters,
# FLOPs per tile and the achieved fraction of the GPU's measured bf16 matmul peak, then
# MP/s end to end on a 16.8 MP image through the engine's tiling and batching, and, with
# several GPUs, a 24 MP photo on one GPU against all of them (benchmarks/devices.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-gpu}
WORK=${WORK:-$(mktemp -d)}
has_cuda() { "$1" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; }

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --quiet --disable-pip-version-check)
has_cuda "$PY" || "${PIP[@]}" "torch==2.13.0"
# module -> requirement, for whatever this Python lacks
missing=$("$PY" - <<'PYEOF'
import importlib.util
needs = {"diffusers": "diffusers==0.42.1", "peft": "peft==0.21.2",
         "transformers": "transformers>=5.24,<6", "safetensors": "safetensors>=0.6",
         "scipy": "scipy>=1.11", "grpc": "grpcio>=1.85.1",
         "grpc_health": "grpcio-health-checking>=1.85.1",
         "grpc_reflection": "grpcio-reflection>=1.85.1", "google.protobuf": "protobuf>=7.35.1,<8",
         "numpy": "numpy>=1.26", "PIL": "pillow>=10", "tifffile": "tifffile>=2023.1"}
def absent(name):
    try:
        return importlib.util.find_spec(name) is None
    except ModuleNotFoundError:
        return True
print(" ".join(req for mod, req in needs.items() if absent(mod)))
PYEOF
)
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086  # one word per requirement
    "${PIP[@]}" $missing
fi
has_cuda "$PY" || { echo "no CUDA device visible to torch" >&2; exit 1; }
"$PY" -c "import torch; print('device:', torch.cuda.get_device_name(), '| torch', torch.__version__)"

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
osdd() { "$PY" -m backend.cli "$@"; }
if [ ! -f "$WORK/sd21/osdd_manifest.json" ]; then
    osdd models make-random "$WORK/sd21" --arch sd21
fi
osdd bench --weights "$WORK/sd21" --device cuda --dtypes bf16,fp16,fp32 \
    --fuse fused,unfused --tile 512 --batch 1 --repeats 10 --flops
osdd bench --weights "$WORK/sd21" --device cuda --dtypes bf16 --fuse fused \
    --tile 512 --batch 8 --repeats 5 --image 4096
# One job's tiles shared by every GPU (osdd serve --devices), against one GPU.
if [ "$("$PY" -c 'import torch; print(torch.cuda.device_count())')" -gt 1 ]; then
    "$PY" benchmarks/devices.py --weights "$WORK/sd21" --devices all --megapixels 24
fi
