#!/bin/sh
# Debian packages the ARM check needs (qemu-user with TCG plugin support, debootstrap, a C compiler and
# glib headers for the plugin). Installs only what is missing; needs root.
set -eu
need=""
command -v qemu-aarch64 >/dev/null || need="$need qemu-user qemu-user-static binfmt-support"
command -v debootstrap >/dev/null || need="$need debootstrap"
command -v gcc >/dev/null || need="$need gcc"
command -v pkg-config >/dev/null || need="$need pkg-config"
[ -f /usr/include/glib-2.0/glib.h ] || need="$need libglib2.0-dev"
command -v dpkg-source >/dev/null || need="$need dpkg-dev"
if [ -n "$need" ]; then
    echo "installing:$need"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need
fi
