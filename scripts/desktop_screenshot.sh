#!/usr/bin/env bash
# The README's desktop screenshot: the real app on a virtual X display (Debian's xvfb).
# Arguments go to scripts/desktop_screenshot.py (--photo, --region, --out).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/qt_system_libs.sh --x11
QT_QPA_PLATFORM=xcb exec xvfb-run -a -s "-screen 0 1400x900x24" \
    .venv/bin/python scripts/desktop_screenshot.py "$@"
