"""Models found by name: the entry-point group `emolite.bundles`, with real distribution metadata on sys.path."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

import emolite
from emolite import registry
from emolite.bundle import DEFAULT_BUNDLE, MANIFEST, MANIFEST_DIGEST
from emolite.cli import main

REPO = Path(__file__).resolve().parents[1]
# The fields of one `emolite models --json` record.
ROW_KEYS = {"name", "distribution", "version", "package", "path", "formats", "size_mb", "layers", "error"}
ROW_KEYS |= {"default_label_set", "embedding_dim"}


def _dist(site: Path, name: str, entry_points: dict[str, str]) -> None:
    """A real installed distribution: `<name>-0.1.dist-info/` with METADATA and entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[emolite.bundles]\n{lines}", encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A site folder holding one good model package (a copy of the default bundle) and broken entries."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(DEFAULT_BUNDLE, root / "emolite_tmpmodel")
    (root / "emolite_empty").mkdir()  # a package folder without manifest.json
    _dist(root, "emolite-tmpmodel", {"tmp-model": "emolite_tmpmodel"})
    broken = {"gone": "emolite_gone_nowhere", "empty": "emolite_empty", "obj": "os:path"}
    _dist(root, "emolite-broken", broken)
    return root


@pytest.fixture()
def on_path(site, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(site))
    return site


def test_default_is_registered_by_its_entry_point_and_is_the_shipped_folder():
    model = registry.installed()["default"]
    assert model.error is None and model.package == "emolite.bundles.default"
    assert model.distribution == "emolite" and model.version == emolite.__version__
    assert model.path is not None and model.path.resolve() == DEFAULT_BUNDLE.resolve()
    spec = importlib.util.find_spec("emolite.bundles.default")
    assert Path(list(spec.submodule_search_locations)[0]).resolve() == DEFAULT_BUNDLE.resolve()
    assert [m.name for m in emolite.models()].count("default") == 1


def test_load_by_name_opens_the_default_bundle():
    clf = emolite.load("default")
    assert clf.bundle.root.resolve() == DEFAULT_BUNDLE.resolve()
    assert clf.predict("I am furious with you", labels="ekman").labels[0] == "anger"
    assert emolite.label_sets("default") == emolite.label_sets()


def test_a_model_of_an_installed_distribution_resolves_loads_and_classifies(on_path):
    model = registry.installed()["tmp-model"]
    assert (model.distribution, model.version, model.error) == ("emolite-tmpmodel", "0.1", None)
    assert model.path == on_path / "emolite_tmpmodel"
    assert registry.resolve("tmp-model") == registry.resolve("TMP-Model") == on_path / "emolite_tmpmodel"
    clf = emolite.load("tmp-model")
    assert clf.bundle.root == on_path / "emolite_tmpmodel"
    pred = clf.predict("what a lovely day", labels="ekman")
    assert pred.labels[0] == "joy" and len(pred.labels) == 7
    assert "emolite_tmpmodel" not in sys.modules  # found by its folder, never imported


def test_without_its_folder_on_sys_path_the_model_is_gone(on_path, monkeypatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(on_path)])
    assert "tmp-model" not in registry.installed()


def test_broken_entries_are_listed_with_their_error_and_break_nothing(on_path):
    models = registry.installed()
    assert models["default"].error is None and models["tmp-model"].error is None
    assert "emolite_gone_nowhere" in models["gone"].error and models["gone"].path is None
    assert "no manifest.json" in models["empty"].error
    assert "names an object" in models["obj"].error
    assert all(models[n].distribution == "emolite-broken" for n in ("gone", "empty", "obj"))
    with pytest.raises(emolite.BundleNotFoundError, match="installed model 'empty' cannot be used"):
        emolite.load("empty")


def test_an_unknown_name_lists_the_installed_names(on_path):
    with pytest.raises(emolite.BundleNotFoundError) as info:
        emolite.load("minilm-l9")
    message = str(info.value)
    assert "default" in message and "tmp-model" in message and "pip install ./models/minilm-l9" in message
    assert isinstance(info.value, FileNotFoundError)


def test_paths_stay_paths(tmp_path, monkeypatch):
    assert registry.resolve(None) == DEFAULT_BUNDLE
    assert registry.resolve(str(DEFAULT_BUNDLE)) == DEFAULT_BUNDLE
    assert emolite.label_sets(DEFAULT_BUNDLE) == emolite.label_sets()
    # A folder named like a registered model: the name wins; a separator or a Path makes it a path.
    monkeypatch.chdir(tmp_path)
    for name in ("default", "mybundle"):
        (tmp_path / name).mkdir()
        for part in (MANIFEST, MANIFEST_DIGEST):
            shutil.copy2(DEFAULT_BUNDLE / part, tmp_path / name / part)
    assert registry.resolve("default") == DEFAULT_BUNDLE
    assert registry.resolve(f".{os.sep}default") == Path("./default")
    assert registry.resolve(Path("default")) == Path("default")
    opened = emolite.Bundle.open(registry.resolve("./default"), verify=False)
    assert opened.root.resolve() == (tmp_path / "default").resolve()
    assert registry.resolve("mybundle") == Path("mybundle")  # no model of that name: an existing path
    assert "ekman" in emolite.label_sets("mybundle")
    with pytest.raises(emolite.BundleNotFoundError, match="no bundle at"):
        emolite.load("./missing")  # a path, so no name lookup and no suggestion to pip install


@pytest.mark.parametrize("value", [3, b"default", ["default"]])
def test_a_bundle_of_the_wrong_type_is_a_type_error(value):
    with pytest.raises(emolite.InputTypeError, match="bundle must be a path"):
        emolite.load(value)
    with pytest.raises(TypeError):
        emolite.label_sets(value)


def test_an_empty_name_is_an_invalid_input():
    with pytest.raises(emolite.InvalidInputError):
        registry.resolve("  ")


def test_models_command_json_lists_every_model(on_path, capsys):
    code = main(["models", "--json"])
    out, _ = capsys.readouterr()
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert code == 0 and {"default", "tmp-model", "gone", "empty", "obj"} <= set(rows)
    default = rows["default"]
    assert set(default) == ROW_KEYS
    assert default["path"] == str(registry.installed()["default"].path) and default["error"] is None
    assert default["formats"] == ["onnx", "tflite"] and default["embedding_dim"] == 384
    assert default["default_label_set"] == "goemotions" and default["distribution"] == "emolite"
    disk = sum(p.stat().st_size for p in DEFAULT_BUNDLE.rglob("*") if p.is_file())
    assert default["size_mb"] == round(disk / 1e6, 1)
    assert rows["tmp-model"]["distribution"] == "emolite-tmpmodel" and rows["tmp-model"]["version"] == "0.1"
    assert rows["gone"]["error"] and rows["gone"]["formats"] is None


def test_models_command_check_fails_on_a_broken_model(on_path, capsys):
    assert main(["models"]) == 0  # broken entries are shown, not fatal
    out, _ = capsys.readouterr()
    assert "tmp-model" in out and "emolite-tmpmodel==0.1" in out and "ERROR: package 'emolite_empty'" in out
    assert main(["models", "--check"]) == 1
    capsys.readouterr()


def test_models_command_check_verifies_every_file(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    shutil.copytree(DEFAULT_BUNDLE, site / "emolite_bad")
    _dist(site, "emolite-bad", {"bad": "emolite_bad"})
    monkeypatch.syspath_prepend(str(site))
    assert main(["models", "--check", "--json"]) == 0  # every model intact
    capsys.readouterr()
    with open(site / "emolite_bad" / "vocab.txt", "ab") as f:
        f.write(b"x")
    assert main(["models", "--json"]) == 0  # without --check only the manifest digest is proved
    capsys.readouterr()
    assert main(["models", "--check", "--json"]) == 1
    rows = {row["name"]: row for row in map(json.loads, capsys.readouterr()[0].splitlines())}
    assert "vocab.txt" in rows["bad"]["error"] and rows["default"]["error"] is None


def test_bundle_options_of_the_cli_take_a_name(on_path, capsys):
    assert main(["info", "tmp-model", "--json"]) == 0
    assert json.loads(capsys.readouterr()[0])["path"] == str(on_path / "emolite_tmpmodel")
    assert main(["labels", "--bundle", "tmp-model", "--json"]) == 0
    assert "ekman" in {json.loads(line)["name"] for line in capsys.readouterr()[0].splitlines()}
    code = main(["predict", "I am furious with you", "--bundle", "tmp-model", "--labels", "ekman", "--json"])
    assert code == 0 and json.loads(capsys.readouterr()[0])["labels"][0] == "anger"
    code = main(["predict", "hi", "--bundle", "nope"])
    assert code == 2 and "pip install ./models/nope" in capsys.readouterr()[1]


def test_stream_takes_a_name(on_path, tmp_path, capsys):
    lines = tmp_path / "lines.txt"
    lines.write_text("what a lovely day\n", encoding="utf-8")
    assert main(["stream", str(lines), "--bundle", "tmp-model", "--labels", "ekman", "--json"]) == 0
    assert json.loads(capsys.readouterr()[0])["labels"][0] == "joy"


def test_build_script_copies_a_bundle_into_a_model_package(tmp_path):
    spec = importlib.util.spec_from_file_location("models_build", REPO / "models" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    (tmp_path / "extra").mkdir()
    source = tmp_path / "extra" / "bundle"
    shutil.copytree(DEFAULT_BUNDLE, source)
    (source / "notes.txt").write_text("not a bundle file")  # not in the manifest: not copied
    target = build.build("tiny-1", source, models=tmp_path / "models")
    assert target == tmp_path / "models" / "tiny-1" / "emolite_tiny_1"
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    copied = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert copied == {*manifest["files"], MANIFEST, MANIFEST_DIGEST}
    pyproject = (target.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'tiny-1 = "emolite_tiny_1"' in pyproject and 'name = "emolite-tiny-1"' in pyproject
    with pytest.raises(SystemExit, match="--force"):
        build.build("tiny-1", source, models=tmp_path / "models")
    (source / "vocab.txt").write_text("tampered")
    with pytest.raises(emolite.BundleIntegrityError):
        build.build("tiny-1", source, force=True, models=tmp_path / "models")
    assert (target / MANIFEST).is_file()  # a bad source is refused before the package is touched
