"""The wheel a user installs: built from this tree, installed into a fresh venv of the system Python (Debian 12's
/usr/bin/python3 is 3.11.2, the Python of Raspberry Pi OS bookworm), used from outside the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = Path("/usr/bin/python3")

# Run inside the fresh venv: archives of the installed default bundle, loaded and used.
ARCHIVES = """
import json, os, sys, tarfile, zipfile
from pathlib import Path
import emolite
from emolite.bundle import DEFAULT_BUNDLE
work = Path(sys.argv[1])
out = {"python": sys.version.split()[0], "emolite": emolite.__file__, "tarfile_data_filter": hasattr(tarfile, "data_filter")}
zip_path, tar_path = work / "bundle.zip", work / "bundle.tar.gz"
with zipfile.ZipFile(zip_path, "w") as zf:
    for p in DEFAULT_BUNDLE.rglob("*"):
        zf.write(p, "bundle/" + p.relative_to(DEFAULT_BUNDLE).as_posix())
with tarfile.open(tar_path, "w:gz") as tf:
    tf.add(DEFAULT_BUNDLE, arcname="bundle")
for name, path in (("zip", zip_path), ("tar.gz", tar_path)):
    clf = emolite.load(path, backend="onnx")
    out[name] = clf.predict("what a lovely day", labels="ekman").labels[0]
evil = work / "evil.tar.gz"
with tarfile.open(evil, "w:gz") as tf:
    tf.add(DEFAULT_BUNDLE, arcname="bundle")
    link = tarfile.TarInfo("bundle/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tf.addfile(link)
try:
    emolite.load(evil)
    out["evil"] = "loaded"
except emolite.BundleIntegrityError as exc:
    out["evil"] = str(exc)
print(json.dumps(out))
"""


def _python() -> str:
    """Debian's own Python when the machine has it (CI does), else this interpreter."""
    return str(SYSTEM_PYTHON) if SYSTEM_PYTHON.is_file() else sys.executable


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with only the wheel of this tree (and its plain dependencies) installed."""
    root = tmp_path_factory.mktemp("wheel")
    build = root / "build"
    shutil.copytree(REPO, build, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "runs", "out", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root / "dist"), str(build)], check=True)
    wheel = next((root / "dist").glob("emolite-*.whl"))
    env_dir = root / "venv"
    subprocess.run([_python(), "-m", "venv", str(env_dir)], check=True)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", str(wheel)], check=True)
    return env_dir


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True)


def test_wheel_classifies_from_outside_the_repository(venv, tmp_path):
    result = _run(venv, "emolite", "predict", "--json", "--labels", "ekman", "I am furious with you", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["labels"][0] == "anger"
    where = _run(venv, "python", "-c", "import emolite, sys; print(emolite.__file__); print('torch' in sys.modules)", cwd=tmp_path)
    path, torch_loaded = where.stdout.split()
    assert Path(path).is_relative_to(venv) and torch_loaded == "False"


def test_zip_and_tar_gz_bundles_load_on_the_system_python(venv, tmp_path):
    result = _run(venv, "python", "-c", ARCHIVES, str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["zip"] == "joy" and out["tar.gz"] == "joy"
    assert "link" in out["evil"]  # refused on every Python, with or without tarfile's 'data' filter
    if _python() == str(SYSTEM_PYTHON):
        print(f"system Python {out['python']}, tarfile data filter: {out['tarfile_data_filter']}")


@pytest.mark.parametrize(
    ("argv", "extra"),
    [(["train", "--config", "c.toml", "--out", "run"], "distill"), (["export", "base", "--out", "b"], "export")],
)
def test_heavy_command_without_its_extra_says_what_to_install(venv, tmp_path, argv, extra):
    result = _run(venv, "emolite", *argv, cwd=tmp_path)
    assert result.returncode == 2
    assert f"pip install 'emolite[{extra}]'" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "b").exists()


def test_help_marks_commands_whose_extra_is_missing(venv, tmp_path):
    result = _run(venv, "emolite", "--help", cwd=tmp_path)
    assert result.returncode == 0
    lines = " ".join(result.stdout.split())
    assert "train the student on teacher annotations [needs pip install 'emolite[distill]']" in lines
    assert "export a checkpoint to a model bundle [needs pip install 'emolite[export]']" in lines
    assert "classify texts [needs" not in lines


def test_wheel_holds_the_license_and_the_bundle_digest(venv):
    site = next(venv.glob("lib/python*/site-packages"))
    dist = next(site.glob("emolite-*.dist-info"))
    assert "Apache License" in next(dist.rglob("LICENSE")).read_text()
    assert "License-Expression: Apache-2.0" in (dist / "METADATA").read_text()
    assert (site / "emolite" / "bundles" / "default" / "manifest.sha256").is_file()
    assert (site / "emolite" / "bundle_schema.json").is_file()



def _models(venv: Path, cwd: Path) -> dict[str, dict]:
    result = _run(venv, "emolite", "models", "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in map(json.loads, result.stdout.splitlines())}


def test_installed_wheel_lists_its_default_model(venv, tmp_path):
    site = next(venv.glob("lib/python*/site-packages"))
    default = _models(venv, tmp_path)["default"]
    assert default["error"] is None and default["distribution"] == "emolite"
    assert Path(default["path"]) == site / "emolite" / "bundles" / "default"
    assert default["formats"] == ["onnx", "tflite"] and default["embedding_dim"] == 384
    assert _run(venv, "emolite", "models", "--check", cwd=tmp_path).returncode == 0
    result = _run(venv, "emolite", "labels", "--bundle", "default", "--json", cwd=tmp_path)
    assert result.returncode == 0 and "ekman" in result.stdout


# Every model package in the repository: models/<name>/ with its bundle in emolite_<name>/.
MODEL_PACKAGES = sorted(p.parent for p in (REPO / "models").glob("*/pyproject.toml"))

# Run inside the venv: the model loaded by its name and by its path in the repository give the same answers.
BY_NAME = """
import json, sys
import emolite
by_name, by_path = emolite.load(sys.argv[1]), emolite.load(sys.argv[2])
texts = ["I am furious with you", "what a lovely day", "the old house by the lake"]
a, b = by_name.predict(texts), by_path.predict(texts)  # the bundle's default label set
print(json.dumps({"root": str(by_name.bundle.root), "same": [x.to_dict() == y.to_dict() for x, y in zip(a, b)],
                  "labels": [sorted(x.labels) for x in a], "predicted": [x.predicted for x in a]}))
"""


def test_every_model_package_is_found():
    assert {p.name for p in MODEL_PACKAGES} >= {"minilm-l3", "mpnet-base"}


@pytest.mark.parametrize("source", MODEL_PACKAGES, ids=[p.name for p in MODEL_PACKAGES])
def test_model_package_installs_and_loads_by_name(venv, tmp_path, source):
    name, module = source.name, "emolite_" + source.name.replace("-", "_")
    bundle = source / module
    if not (bundle / "manifest.json").is_file():
        pytest.skip(f"{bundle.relative_to(REPO)}/ holds no bundle yet (python models/build.py {name} BUNDLE)")
    package = tmp_path / name  # built from a copy: setuptools writes build/ and *.egg-info beside it
    shutil.copytree(source, package, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(package)],
                   check=True)
    wheel = next((tmp_path / "dist").glob(f"{module}-0.1.0-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    bundle_files = {n.split("/", 1)[1] for n in names if n.startswith(f"{module}/")}
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert bundle_files == {*manifest["files"], "manifest.json", "manifest.sha256"}
    assert all(n.startswith((f"{module}/", f"{module}-0.1.0.dist-info/")) for n in names)
    assert not [n for n in names if n.endswith((".py", ".pyc"))]

    install = _run(venv, "pip", "install", "-q", str(package), cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    try:
        site = next(venv.glob("lib/python*/site-packages"))
        models = _models(venv, tmp_path)
        model = models[name]
        assert "default" in models and model["error"] is None
        assert (model["distribution"], model["version"]) == (f"emolite-{name}", "0.1.0")
        assert Path(model["path"]) == site / module
        assert model["embedding_dim"] == manifest["encoder"]["embedding_dim"]
        result = _run(venv, "python", "-c", BY_NAME, name, str(bundle), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert Path(out["root"]) == site / module and all(out["same"])
        default_set = sorted(manifest["label_sets"][manifest["default_label_set"]]["labels"])
        assert all(labels == default_set for labels in out["labels"]) and all(out["predicted"])
    finally:
        _run(venv, "pip", "uninstall", "-q", "-y", f"emolite-{name}", cwd=tmp_path)
