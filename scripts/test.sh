#!/usr/bin/env bash
# Fresh machine -> the whole test suite: makes .venv, installs the project with the server
# and dev extras, runs pytest. Extra arguments go to pytest. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[server,dev]"
exec .venv/bin/python -m pytest "$@"
