#!/usr/bin/env bash
# Fresh machine -> the whole test suite: makes .venv, installs the project with the server,
# train, dev and desktop extras (plus, as root, the system libraries Qt needs), runs pytest.
# Extra arguments go to pytest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[server,train,dev,desktop]"
.venv/bin/python scripts/convert_perceptual_weights.py  # LPIPS/DISTS weights, NIQE model, once per machine
export OSDD_REQUIRE_METRIC_WEIGHTS=1  # so the metric tests fail rather than skip without them
bash scripts/qt_system_libs.sh
exec .venv/bin/python -m pytest "$@"
