#!/bin/sh
# Build a runnable Debian bookworm arm64 root for qemu-user (no second stage, no binfmt needed):
# debootstrap --foreign downloads the packages, dpkg-deb -x unpacks them. About 30 s with a near mirror.
#   usage: setup_root.sh ROOT [MIRROR]
set -eu
ROOT=$1
MIRROR=${2:-http://deb.debian.org/debian}
if [ -x "$ROOT/usr/bin/python3.11" ]; then
    echo "arm64 root ready: $ROOT"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "need: apt-get install qemu-user qemu-user-static debootstrap" >&2; exit 2; }
rm -rf "$ROOT.part"
debootstrap --arch=arm64 --foreign --variant=minbase --include=python3,python3-venv bookworm "$ROOT.part" "$MIRROR"
for deb in "$ROOT.part"/var/cache/apt/archives/*.deb; do
    dpkg-deb -x "$deb" "$ROOT.part"
done
mv "$ROOT.part" "$ROOT"
echo "arm64 root ready: $ROOT"
