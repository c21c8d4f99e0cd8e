"""Put a bundle into a model package: python models/build.py NAME BUNDLE [--force].

Copies the bundle BUNDLE (a directory or archive, verified first) into models/NAME/emolite_<NAME>/ (dashes
become underscores), only the files its manifest lists plus manifest.json and manifest.sha256, writes
models/NAME/pyproject.toml from the convention's template when the package has none, and verifies the copy
with emolite.Bundle.open. Then `pip install ./models/NAME` makes emolite.load("NAME") work. See README.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import emolite
from emolite.bundle import MANIFEST, MANIFEST_DIGEST

MODELS = Path(__file__).resolve().parent

PYPROJECT = """\
# A model package: its wheel holds one emolite bundle ({package}/) and no Python code (see ../README.md).
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "emolite-{name}"
version = "0.1.0"
description = "emolite model {name} (bundle {bundle_name})."
requires-python = ">=3.9"
dependencies = ["emolite>=0.1"]

[project.entry-points."emolite.bundles"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}", "{package}.labels"]

[tool.setuptools.package-data]
{package} = ["*", "labels/*"]
"""


def package_name(name: str) -> str:
    return "emolite_" + name.replace("-", "_").replace(".", "_")


def build(name: str, source: str | Path, force: bool = False, models: Path = MODELS) -> Path:
    """Copy the bundle at `source` into <models>/<name>/emolite_<name>/ and return that folder, verified."""
    if not name or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-." for c in name):
        raise SystemExit(f"model name {name!r}: use lowercase letters, digits, '-' and '.'")
    bundle = emolite.Bundle.open(source)  # the source is verified before anything is copied
    files = [*bundle.manifest["files"], MANIFEST, MANIFEST_DIGEST]
    nested = sorted(f for f in files if f.count("/") > 1 or ("/" in f and not f.startswith("labels/")))
    if nested:
        raise SystemExit(
            f"{source}: files outside the top folder and labels/ ({', '.join(nested)}) "
            "would be left out of the wheel; add their folders to the package's package-data"
        )
    package = Path(models) / name
    target = package / package_name(name)
    if target.exists():
        if not force:
            raise SystemExit(f"{target} exists; pass --force to replace it")
        shutil.rmtree(target)
    for relpath in files:
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(bundle.root / relpath, target / relpath)
    if not (package / "pyproject.toml").is_file():
        text = PYPROJECT.format(name=name, package=package_name(name), bundle_name=bundle.manifest["name"])
        (package / "pyproject.toml").write_text(text, encoding="utf-8")
    emolite.Bundle.open(target)  # the copy: manifest digest, then size and sha256 of every file
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="model name, e.g. minilm-l3 (the folder models/NAME)")
    parser.add_argument("bundle", help="bundle directory or archive, e.g. runs/minilm-l3/bundle")
    parser.add_argument("--force", action="store_true", help="replace a bundle already in the package")
    args = parser.parse_args(argv)
    try:
        target = build(args.name, args.bundle, args.force)
    except emolite.EmoliteError as exc:
        print(f"build.py: error: {exc}", file=sys.stderr)
        return 2
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"{target}: verified, {size / 1e6:.1f} MB; install with pip install {target.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
