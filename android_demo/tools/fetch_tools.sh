#!/usr/bin/env bash
# Fetch everything the offline APK build needs into a cache outside the repository:
#   - Debian bookworm packages aapt, apksigner, zipalign, dexdump, libasm-java (apt-get install, as root);
#   - android.jar (API 23) and dx from Debian bullseye, downloaded as .deb files through a private apt
#     state directory (the system's sources and package lists are never touched) and unpacked into the cache;
#   - the ONNX Runtime Android AAR, carried by the npm package com.github.asus4.onnxruntime.
# Idempotent: each step is skipped when its result is already in the cache.
set -euo pipefail

CACHE="${EMOLITE_ANDROID_CACHE:-$HOME/.cache/emolite-android}"
ORT_NPM="com.github.asus4.onnxruntime@0.4.9"
mkdir -p "$CACHE"

log() { echo "[fetch_tools] $*" >&2; }

need_debs=()
for tool in aapt apksigner zipalign dexdump; do command -v "$tool" >/dev/null || need_debs+=("$tool"); done
[ -f /usr/share/java/asm.jar ] || need_debs+=(libasm-java)
[ -f /usr/share/java/com.android.json.jar ] || need_debs+=(libandroid-json-java)
if [ ${#need_debs[@]} -gt 0 ]; then
  log "apt-get install ${need_debs[*]}"
  apt-get update -q >/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_debs[@]}" >/dev/null
fi

# --- bullseye: android.jar (API 23) and dx --------------------------------------------------------
BULLSEYE="$CACHE/bullseye"
if [ ! -f "$BULLSEYE/root/usr/share/java/com.android.android-23.jar" ] || [ ! -f "$BULLSEYE/root/usr/share/java/com.android.dx.jar" ]; then
  # The same mirror apt already uses, read from the system's sources (no host is named here).
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
  mkdir -p "$BULLSEYE/lists/partial" "$BULLSEYE/archives/partial" "$BULLSEYE/root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" > "$BULLSEYE/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$BULLSEYE/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
            -o "Dir::State::Lists=$BULLSEYE/lists" -o "Dir::Cache::Archives=$BULLSEYE/archives"
            -o "Dir::State::Status=/dev/null" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1")
  log "apt-get update (private bullseye lists in $BULLSEYE)"
  apt-get "${apt_opts[@]}" update -q >/dev/null
  (cd "$BULLSEYE/archives" && apt-get "${apt_opts[@]}" download \
     android-sdk-platform-23 dalvik-exchange libandroid-23-java >/dev/null 2>&1 || \
   apt-get "${apt_opts[@]}" download android-sdk-platform-23 dalvik-exchange)
  for deb in "$BULLSEYE"/archives/*.deb; do dpkg-deb -x "$deb" "$BULLSEYE/root"; done
fi

# --- ONNX Runtime Android AAR ------------------------------------------------------------------------
ORT="$CACHE/ort"
if [ ! -f "$ORT/aar/classes.jar" ]; then
  mkdir -p "$CACHE/npm" "$ORT/aar"
  tgz=$(ls "$CACHE"/npm/com.github.asus4.onnxruntime-*.tgz 2>/dev/null | head -1 || true)
  if [ -z "$tgz" ]; then
    log "npm pack $ORT_NPM (about 150 MB)"
    (cd "$CACHE/npm" && npm pack -q "$ORT_NPM" >/dev/null 2>&1)
    tgz=$(ls "$CACHE"/npm/com.github.asus4.onnxruntime-*.tgz | head -1)
  fi
  tar -xzf "$tgz" -C "$ORT" package/Plugins/Android/onnxruntime.aar package/LICENSE
  (cd "$ORT/aar" && unzip -q -o ../package/Plugins/Android/onnxruntime.aar)
fi
log "tools ready in $CACHE"
