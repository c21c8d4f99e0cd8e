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
# only what the manifest lists, minus the formats the app cannot run (it runs ONNX Runtime only: a TFLite
# file would add 24 MB to the APK); the trimmed manifest stays a valid bundle of format v1.
python3 - "$src" "$dst" <<'PY'
import json, shutil, sys
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
manifest = json.loads((src / "manifest.json").read_text())
dropped = [fmt for fmt in manifest["formats"] if fmt != "onnx"]
for fmt in dropped:
    manifest["files"].pop(manifest["formats"].pop(fmt)["file"], None)
    manifest["golden"]["embeddings"].pop(fmt, None)
manifest["preferred_backend"] = "onnx"
for rel in manifest["files"]:
    (dst / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / rel, dst / rel)
(dst / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"copied {len(manifest['files']) + 1} files of {src} to {dst} (left out: {', '.join(dropped) or 'nothing'})", file=sys.stderr)
PY
