#!/usr/bin/env bash
# Installs the system libraries PyQt6's wheels link against, when any is missing:
#   bash scripts/qt_system_libs.sh          # what offscreen Qt needs (tests)
#   bash scripts/qt_system_libs.sh --x11    # also a real X display: xcb and Xvfb
# Debian/Ubuntu only, and only as root; otherwise it says what is missing. Quiet and
# idempotent: when nothing is missing it does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
qt=$(.venv/bin/python -c 'import os, PyQt6; print(os.path.join(os.path.dirname(PyQt6.__file__), "Qt6"))')
files=("$qt/plugins/platforms/libqoffscreen.so" "$qt/lib/libQt6Gui.so.6" "$qt/lib/libQt6Widgets.so.6")
packages=(libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libxkbcommon0 libdbus-1-3
          libx11-6)
if [[ "${1:-}" == "--x11" ]]; then
    files+=("$qt/plugins/platforms/libqxcb.so" "$qt/lib/libQt6XcbQpa.so.6")
    packages+=(xvfb xauth libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0
               libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0
               libxcb-xkb1 libxkbcommon-x11-0 fonts-dejavu-core)
    command -v Xvfb >/dev/null || missing_xvfb=1
fi
missing=$(ldd "${files[@]}" 2>/dev/null | awk '/not found/ {print $1}' | sort -u)
if [[ -z "$missing" && -z "${missing_xvfb:-}" ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "Qt needs system libraries that are missing: ${missing:-Xvfb}" >&2
    echo "install them (Debian: apt-get install ${packages[*]}) and run again" >&2
    exit 1
fi
echo "installing system libraries for Qt (missing: $(echo ${missing:-Xvfb}))" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
