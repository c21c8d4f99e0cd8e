"""Every bad input gets a typed error that says what to do, or a documented result; nothing crashes."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile

import numpy as np
import pytest

import emolite
from emolite import errors


@pytest.fixture()
def bundle_copy(tmp_path, default_bundle):
    dest = tmp_path / "bundle"
    shutil.copytree(default_bundle, dest)
    return dest


def edit_manifest(bundle, change) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


# -- texts -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("texts", "message"),
    [
        (None, "None"),
        (b"raw bytes", "decode"),
        (42, "int"),
        ({"a": 1}, "dict"),
        (["fine", None], "index 1"),
        (["fine", b"bytes"], "index 1"),
        (["ok", 3.5], "index 1 is float"),
        (["ok", "fine", ""], "index 2 is empty"),
        (["   \n\t"], "index 0 is empty"),
        ("", "empty"),
    ],
)
def test_bad_texts_raise_invalid_input(clf, texts, message):
    for call in (clf.predict, clf.embed, lambda t: clf.scores(t, "ekman")):
        with pytest.raises(errors.InvalidInputError, match=message) as info:
            call(texts)
        assert isinstance(info.value, ValueError) and isinstance(info.value, emolite.EmoliteError)


def test_lone_surrogates_and_control_characters_are_defined(clf):
    pred = clf.predict(["\ud83d alone", "\udfff", "\x00\x07 bell"])
    assert [len(p.labels) for p in pred] == [28, 28, 28]
    assert all(np.isfinite(p.scores).all() for p in pred)


# -- labels ----------------------------------------------------------------------------------------
def test_empty_label_list(clf):
    with pytest.raises(errors.InvalidInputError, match="empty list"):
        clf.predict("hi there", labels=[])


def test_duplicate_labels_name_both_positions(clf):
    with pytest.raises(errors.InvalidInputError, match=r"'Joy' at index 2 duplicates index 0"):
        clf.predict("hi there", labels=["joy", "anger", "Joy"])


@pytest.mark.parametrize("labels", [["joy", ""], ["joy", None], ["joy", b"anger"]])
def test_bad_label_items(clf, labels):
    with pytest.raises(errors.InvalidInputError, match="labels at index 1"):
        clf.predict("hi there", labels=labels)


def test_unknown_label_set_lists_known_ones(clf):
    with pytest.raises(errors.UnknownLabelSetError) as info:
        clf.predict("hi there", labels="ekmann")
    assert isinstance(info.value, KeyError)
    assert "ekmann" in str(info.value) and "goemotions" in str(info.value) and "ekman" in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [({"top_k": 0}, "top_k"), ({"top_k": "3"}, "top_k")])
def test_bad_options(clf, kwargs, message):
    with pytest.raises(errors.InvalidInputError, match=message):
        clf.predict("hi there", **kwargs)


def test_bad_load_options():
    with pytest.raises(errors.InvalidInputError, match="unknown backend 'cuda'"):
        emolite.load(backend="cuda")
    with pytest.raises(errors.InvalidInputError, match="threads"):
        emolite.load(threads=0)
    with pytest.raises(errors.InvalidInputError, match="batch_size"):
        emolite.load(batch_size=-1)


# -- bundles ---------------------------------------------------------------------------------------
def test_missing_bundle_path(tmp_path):
    with pytest.raises(errors.BundleNotFoundError, match="no bundle at"):
        emolite.load(tmp_path / "nowhere")


def test_directory_without_manifest(tmp_path):
    with pytest.raises(errors.BundleNotFoundError, match="no manifest.json"):
        emolite.load(tmp_path)


def test_missing_model_file(bundle_copy):
    (bundle_copy / "model.onnx").unlink()
    with pytest.raises(errors.BundleNotFoundError, match="missing 'model.onnx'") as info:
        emolite.load(bundle_copy)
    assert isinstance(info.value, FileNotFoundError)


def test_corrupt_model_file_fails_sha256(bundle_copy):
    model = bundle_copy / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one flipped byte
    model.write_bytes(bytes(data))
    with pytest.raises(errors.BundleIntegrityError, match="sha256"):
        emolite.load(bundle_copy)


def test_truncated_label_file_fails_size(bundle_copy):
    labels = bundle_copy / "labels" / "ekman.f32"
    labels.write_bytes(labels.read_bytes()[:-4])
    with pytest.raises(errors.BundleIntegrityError, match="bytes"):
        emolite.load(bundle_copy)


def test_manifest_that_is_not_json(bundle_copy):
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(errors.BundleIntegrityError, match="not valid JSON"):
        emolite.load(bundle_copy)


def test_unknown_format_version(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m.update(format_version=99))
    with pytest.raises(errors.UnsupportedBundleVersionError, match="version 99.*reads version 1"):
        emolite.load(bundle_copy)


def test_manifest_path_escaping_bundle(bundle_copy):
    def escape(m):
        m["files"]["../outside.bin"] = {"bytes": 1, "sha256": "0" * 64}

    edit_manifest(bundle_copy, escape)
    with pytest.raises(errors.BundleIntegrityError, match="outside the bundle"):
        emolite.load(bundle_copy)


@pytest.mark.parametrize("backend", ["onnx", "tflite", "auto"])
def test_runtime_failing_golden_vectors_is_refused(bundle_copy, backend):
    def rotate(m):
        for fmt, vectors in m["golden"]["embeddings"].items():
            m["golden"]["embeddings"][fmt] = vectors[1:] + vectors[:1]  # each text now expects another's vector

    edit_manifest(bundle_copy, rotate)
    if backend == "tflite":
        pytest.importorskip("ai_edge_litert")
    with pytest.raises(errors.RuntimeVerificationError, match="golden-vector cosine") as info:
        emolite.load(bundle_copy, backend=backend)
    assert isinstance(info.value, RuntimeError)


# -- archives --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archived_bundle_loads(tmp_path, default_bundle, monkeypatch, kind):
    monkeypatch.setenv("EMOLITE_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / f"bundle.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for path in default_bundle.rglob("*"):
                zf.write(path, "bundle/" + path.relative_to(default_bundle).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(default_bundle, arcname=".")
    clf = emolite.load(archive)
    assert clf.predict("what a lovely day", labels="ekman").labels[0] == "joy"


def test_garbage_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLITE_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"this is not a zip file")
    with pytest.raises(errors.BundleIntegrityError, match="cannot unpack"):
        emolite.load(archive)
