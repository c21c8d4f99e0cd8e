#!/usr/bin/env bash
# Copy a bundle (default: the SDK's shipped one) into the app's assets. The copy is gitignored: the bundle is
# committed once, under sdk/bundles/default. The app verifies sizes and sha256 of every file at start.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$here/../sdk/bundles/default}"
dst="${2:-$here/app/src/main/assets/bundle}"
[ -f "$src/manifest.json" ] || { echo "no bundle at $src (manifest.json missing)" >&2; exit 2; }
rm -rf "$dst"
mkdir -p "$dst"
# only what the manifest lists, plus the manifest itself
python3 - "$src" "$dst" <<'PY'
import json, shutil, sys
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
files = ["manifest.json", *json.loads((src / "manifest.json").read_text())["files"]]
for rel in files:
    (dst / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / rel, dst / rel)
print(f"copied {len(files)} files of {src} to {dst}", file=sys.stderr)
PY
