#!/usr/bin/env bash
# A real GIMP 3 for the plug-in's end-to-end test: a Debian 13 (trixie) chroot with
# GIMP 3.0 and its Python plug-in support, plus a venv with the project's client side
# (what `osdd bridge` needs). Debian 12 has only GIMP 2.10. Needs root.
#
#   bash scripts/gimp3_chroot.sh setup     # build or update (~2-3 min first, seconds after)
#   bash scripts/gimp3_chroot.sh mount     # /proc, /sys, /dev for GIMP (setup does this)
#   bash scripts/gimp3_chroot.sh umount    # before deleting the folder, always
#
# ROOT=DIR chooses the folder (default /tmp/osdd-gimp3root).
set -euo pipefail
ROOT=${ROOT:-/tmp/osdd-gimp3root}
VENV=/opt/osdd-venv

mounts() {
    mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    mountpoint -q "$ROOT/sys" || mount -t sysfs sys "$ROOT/sys"
    mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
    mountpoint -q "$ROOT/dev/pts" || mount --bind /dev/pts "$ROOT/dev/pts"
}

unmounts() {
    for m in dev/pts dev sys proc; do
        if mountpoint -q "$ROOT/$m"; then umount "$ROOT/$m"; fi
    done
}

inside() {
    chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

mirror() {
    # the Debian mirror the host's apt already uses
    local url
    url=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
          || true)
    [ -n "$url" ] || url=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
    echo "$url"
}

setup() {
    local url
    url=$(mirror)
    if ! command -v debootstrap >/dev/null; then
        apt-get update -q && apt-get install -y -q --no-install-recommends debootstrap
    fi
    if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
        debootstrap --variant=minbase trixie "$ROOT" "$url"
    fi
    mounts
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    printf 'deb %s trixie main\ndeb %s trixie-updates main\n' "$url" "$url" \
        > "$ROOT/etc/apt/sources.list"
    printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"  # no daemons in here
    chmod +x "$ROOT/usr/sbin/policy-rc.d"
    # xvfb, xauth and xdotool: to open the plug-in's dialog in GIMP's interface and press OK
    if ! inside sh -c 'for c in gimp-console-3.0 xvfb-run xdotool xauth; do
            command -v "$c" || exit 1; done; python3 -c "import ensurepip, gi"' \
            >/dev/null 2>&1; then
        inside apt-get update -q
        inside apt-get install -y -q --no-install-recommends gimp gir1.2-gimp-3.0 \
            gir1.2-gegl-0.4 gir1.2-babl-0.1 python3 python3-gi python3-venv ca-certificates \
            xvfb xauth xdotool
        inside apt-get clean
    fi
    # A TLS-intercepting proxy's extra CA certificates are needed inside as well.
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
        inside update-ca-certificates >/dev/null
    fi
    if [ ! -x "$ROOT$VENV/bin/python" ]; then
        inside python3 -m venv "$VENV"
    fi
    # The bridge's dependencies (the client side of pyproject.toml) and a build backend;
    # the project itself is installed by the test, from the working tree.
    inside "$VENV/bin/pip" install -q --disable-pip-version-check "setuptools>=68" \
        "grpcio>=1.85.1" "grpcio-health-checking>=1.85.1" "grpcio-reflection>=1.85.1" \
        "protobuf>=7.35.1,<8" "numpy>=1.26" "pillow>=10" "tifffile>=2023.1"
    inside gimp-console-3.0 --version
}

case "${1:-setup}" in
    setup) setup ;;
    mount) mounts ;;
    umount) unmounts ;;
    *) echo "usage: $0 setup|mount|umount" >&2; exit 2 ;;
esac
