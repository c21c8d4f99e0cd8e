#!/usr/bin/env bash
# Copy a bundle (default: the SDK's shipped one) into the app's assets. The copy is gitignored: the bundle is
# committed once, under sdk/bundles/default. The app verifies manifest.sha256 and the size and sha256 of every
# file at start.
#
# The trimmed manifest is written by the SDK's one bundle writer, emolite.bundle.write_manifest, so the copy
# carries a correct manifest.sha256 (format v2). That needs a python with emolite installed: the repo's venv
# (`make dev` at the repo root), or $PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="${1:-$here/../sdk/bundles/default}"
dst="${2:-$here/app/src/main/assets/bundle}"
python="${PYTHON:-$here/../.venv/bin/python}"
[ -f "$src/manifest.json" ] || { echo "no bundle at $src (manifest.json missing)" >&2; exit 2; }
"$python" -c "import emolite.bundle" 2>/dev/null || {
  echo "$python cannot import emolite.bundle: run 'make dev' at the repo root, or set PYTHON to a python with emolite" >&2
  exit 2
}
rm -rf "$dst"
mkdir -p "$dst"
# only what the manifest lists, minus the formats the app cannot run (it runs ONNX Runtime only: a TFLite
# file would add 24 MB to the APK); the trimmed manifest stays a valid bundle of the SDK's format version.
"$python" - "$src" "$dst" <<'PY'
import copy, shutil, sys
from pathlib import Path
from emolite.bundle import Bundle, write_manifest
from emolite.errors import EmoliteError
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
# the source is verified first (manifest.sha256, every file's size and sha256): write_manifest re-hashes the
# copies, so a corrupt source file would otherwise come out with a fresh, matching hash
try:
    source = Bundle.open(src, verify=True)
except EmoliteError as exc:
    sys.exit(f"copy_bundle: refusing to copy {src}: {exc}")
manifest = copy.deepcopy(source.manifest)
dropped = [fmt for fmt in manifest["formats"] if fmt != "onnx"]
kept = dict(manifest["files"])
for fmt in dropped:
    kept.pop(manifest["formats"].pop(fmt)["file"], None)
    manifest["golden"]["embeddings"].pop(fmt, None)
manifest["preferred_backend"] = "onnx"
for rel in kept:
    (dst / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src / rel, dst / rel)
write_manifest(dst, manifest)  # lists every file under dst (exactly the kept ones), then manifest.sha256
if manifest["files"] != kept:
    sys.exit(f"copy_bundle: the copied files differ from the source manifest's entries: {sorted(manifest['files'])}")
Bundle.open(dst, verify=True)  # the trimmed copy reads back as a bundle
print(f"copied {len(kept)} files of {src} to {dst} with a new manifest.json and manifest.sha256 "
      f"(left out: {', '.join(dropped) or 'nothing'})", file=sys.stderr)
PY
