#!/usr/bin/env bash
# Fresh machine -> the whole test suite: makes .venv, installs the project with the server,
# dev and desktop extras (plus, as root, the system libraries Qt needs), runs pytest.
# Extra arguments go to pytest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[server,dev,desktop]"
bash scripts/qt_system_libs.sh
exec .venv/bin/python -m pytest "$@"
