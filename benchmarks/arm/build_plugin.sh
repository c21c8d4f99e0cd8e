#!/bin/sh
# Build the insn_marks QEMU TCG plugin against qemu-plugin.h from the Debian qemu source package.
#   usage: build_plugin.sh CACHE_DIR      (writes CACHE_DIR/insn_marks.so)
# The header is not in any binary Debian package: `apt-get source` needs a deb-src entry, so one is
# added for the download and removed afterwards when the system has none.
set -eu
CACHE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$CACHE/insn_marks.so"
mkdir -p "$CACHE/src"
HEADER=$(find "$CACHE/src" -name qemu-plugin.h -path '*include/qemu/*' 2>/dev/null | head -n 1)
if [ -z "$HEADER" ]; then
    cd "$CACHE/src"
    if ! ls qemu_*.orig.tar.* >/dev/null 2>&1; then
        SRC=/etc/apt/sources.list.d/emolite-debsrc.sources
        ADDED=0
        if ! grep -rqs '^Types: *deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
            SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
            printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$SUITE" > "$SRC"
            ADDED=1
            apt-get update -o Dir::Etc::sourcelist="$SRC" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
        fi
        apt-get source --download-only qemu >/dev/null 2>&1 || { [ $ADDED = 1 ] && rm -f "$SRC"; echo "apt-get source qemu failed" >&2; exit 3; }
        [ $ADDED = 1 ] && rm -f "$SRC"
    fi
    tar -xf qemu_*.orig.tar.* --wildcards '*/include/qemu/qemu-plugin.h'
    HEADER=$(find "$CACHE/src" -name qemu-plugin.h -path '*include/qemu/*' | head -n 1)
fi
gcc -shared -fPIC -O2 -Wall -I"$(dirname "$HEADER")" $(pkg-config --cflags glib-2.0) -o "$OUT" "$HERE/insn_marks.c"
echo "built $OUT"
