"""Every bad input gets a typed error that says what to do, or a documented result; nothing crashes."""

from __future__ import annotations

import hashlib
import io
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


def edit_manifest(bundle, change, resign: bool = True) -> None:
    """Edit manifest.json; `resign` also rewrites manifest.sha256, as someone re-exporting would, so that the
    checks behind the manifest digest are reached."""
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    raw = json.dumps(manifest).encode()
    path.write_bytes(raw)
    if resign:
        (bundle / "manifest.sha256").write_text(hashlib.sha256(raw).hexdigest() + "\n")


# -- texts -----------------------------------------------------------------------------------------
TYPE_ERROR, VALUE_ERROR = (errors.InputTypeError, TypeError, ValueError), (errors.InvalidInputError, ValueError, TypeError)


@pytest.mark.parametrize(
    ("texts", "message", "kind"),
    [
        (None, "None", TYPE_ERROR),
        (b"raw bytes", "decode", TYPE_ERROR),
        (42, "int", TYPE_ERROR),
        ({"a": 1}, "dict", TYPE_ERROR),
        (["fine", None], "index 1", TYPE_ERROR),
        (["fine", b"bytes"], "index 1", TYPE_ERROR),
        (["ok", 3.5], "index 1 is float", TYPE_ERROR),
        ([1, "ok"], "index 0 is int", TYPE_ERROR),
        (["ok", "fine", ""], "index 2 is empty", VALUE_ERROR),
        (["   \n\t"], "index 0 is empty", VALUE_ERROR),
        ("", "empty", VALUE_ERROR),
        (" ", "empty", VALUE_ERROR),
    ],
)
def test_bad_texts_raise_typed_errors(clf, texts, message, kind):
    """Wrong types are TypeErrors (not ValueErrors), empty texts ValueErrors (not TypeErrors); both EmoliteErrors."""
    error, builtin, other = kind
    for call in (clf.predict, clf.embed, lambda t: clf.scores(t, "ekman")):
        with pytest.raises(error, match=message) as info:
            call(texts)
        assert isinstance(info.value, builtin) and isinstance(info.value, emolite.EmoliteError)
        assert not isinstance(info.value, other)


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


@pytest.mark.parametrize(
    ("labels", "error"),
    [
        (["joy", ""], errors.InvalidInputError),
        (["joy", None], errors.InputTypeError),
        (["joy", b"anger"], errors.InputTypeError),
        (["joy", 7], errors.InputTypeError),
    ],
)
def test_bad_label_items(clf, labels, error):
    with pytest.raises(error, match="labels at index 1"):
        clf.predict("hi there", labels=labels)


def test_unknown_label_set_lists_known_ones(clf):
    with pytest.raises(errors.UnknownLabelSetError) as info:
        clf.predict("hi there", labels="ekmann")
    assert isinstance(info.value, KeyError)
    assert "ekmann" in str(info.value) and "goemotions" in str(info.value) and "ekman" in str(info.value)


@pytest.mark.parametrize(
    ("top_k", "error"),
    [(0, errors.InvalidInputError), (-2, errors.InvalidInputError), ("3", errors.InputTypeError),
     (True, errors.InputTypeError), (2.0, errors.InputTypeError)],
)
def test_bad_top_k(clf, top_k, error):
    with pytest.raises(error, match="top_k"):
        clf.predict("hi there", top_k=top_k)


def test_numpy_integer_top_k_is_an_int(clf):
    assert len(clf.predict("hi there", top_k=np.int64(2)).labels) == 2


def test_bad_load_options():
    with pytest.raises(errors.InvalidInputError, match="unknown backend 'cuda'"):
        emolite.load(backend="cuda")
    with pytest.raises(errors.InvalidInputError, match="threads"):
        emolite.load(threads=0)
    with pytest.raises(errors.InputTypeError, match="threads"):
        emolite.load(threads="2")
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
    raw = b"{not json"
    (bundle_copy / "manifest.json").write_bytes(raw)
    (bundle_copy / "manifest.sha256").write_text(hashlib.sha256(raw).hexdigest())
    with pytest.raises(errors.BundleIntegrityError, match="not valid JSON"):
        emolite.load(bundle_copy)


def test_unknown_format_version(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m.update(format_version=99))
    with pytest.raises(errors.UnsupportedBundleVersionError, match="version 99.*reads version 2"):
        emolite.load(bundle_copy)


# -- the manifest digest: every answer-changing edit is refused --------------------------------------
def _thresholds_low(m):
    ls = m["label_sets"][m["default_label_set"]]
    ls["thresholds"] = [0.001] * len(ls["thresholds"])


def _swap_labels(m):
    labels = m["label_sets"][m["default_label_set"]]["labels"]
    labels[0], labels[1] = labels[1], labels[0]


ANSWER_CHANGING_EDITS = {
    "thresholds 0.001": _thresholds_low,
    "logit bias +8": lambda m: m["scoring"].update(logit_bias=m["scoring"]["logit_bias"] + 8),
    "logit scale x3": lambda m: m["scoring"].update(logit_scale=m["scoring"]["logit_scale"] * 3),
    "two label names swapped": _swap_labels,
    "templates": lambda m: m.update(label_templates=["{label}"]),
    "max length": lambda m: m["tokenizer"].update(max_seq_length=16),
    "golden min cosine": lambda m: m["golden"].update(min_cosine=0.0),
    "single-label": lambda m: m["label_sets"]["ekman"].update(multi_label=False),
}


@pytest.mark.parametrize("edit", list(ANSWER_CHANGING_EDITS), ids=list(ANSWER_CHANGING_EDITS))
def test_answer_changing_manifest_edit_is_refused(bundle_copy, edit):
    clean = emolite.load(bundle_copy, backend="onnx").predict("I am so happy today", labels="ekman")
    edit_manifest(bundle_copy, ANSWER_CHANGING_EDITS[edit], resign=False)
    with pytest.raises(errors.BundleIntegrityError, match=r"manifest.json .*fails its integrity check.*manifest.sha256"):
        emolite.load(bundle_copy, backend="onnx")
    with pytest.raises(errors.BundleIntegrityError, match="integrity check"):
        emolite.label_sets(bundle_copy)  # the digest is checked even when file hashes are not
    assert clean.labels[0] == "joy"


def test_same_json_with_other_whitespace_is_refused(bundle_copy):
    path = bundle_copy / "manifest.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=2))
    with pytest.raises(errors.BundleIntegrityError, match="integrity check"):
        emolite.load(bundle_copy)


@pytest.mark.parametrize("content", [None, "", "not a digest\n", "0" * 64 + "\n"])
def test_missing_or_bad_manifest_digest_is_refused(bundle_copy, content):
    digest = bundle_copy / "manifest.sha256"
    if content is None:
        digest.unlink()
    else:
        digest.write_text(content)
    with pytest.raises(errors.BundleIntegrityError, match="manifest.sha256|integrity|digest"):
        emolite.load(bundle_copy)


def test_info_reports_a_refused_manifest(bundle_copy, capsys):
    from emolite.cli import main

    assert main(["info", str(bundle_copy)]) == 0
    assert "matches manifest.sha256" in capsys.readouterr().out
    edit_manifest(bundle_copy, _thresholds_low, resign=False)
    assert main(["info", str(bundle_copy)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "integrity check" in out


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


def _tar_with(archive, default_bundle, extra: tarfile.TarInfo, data: bytes = b"") -> None:
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(default_bundle, arcname=".")
        tf.addfile(extra, io.BytesIO(data) if data else None)


@pytest.mark.parametrize(
    "member",
    [
        ("symlink", "evil-link", "/etc/passwd"),
        ("hardlink", "evil-hard", "manifest.json"),
        ("file", "../outside.txt", None),
        ("file", "/abs/outside.txt", None),
    ],
    ids=["symlink", "hardlink", "dotdot", "absolute"],
)
def test_unsafe_tar_member_is_refused_before_extracting(tmp_path, default_bundle, monkeypatch, member):
    monkeypatch.setenv("EMOLITE_CACHE", str(tmp_path / "cache"))
    kind, name, target = member
    info = tarfile.TarInfo(name)
    if kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, target
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, target
    else:
        info.size = 4
    archive = tmp_path / "bundle.tar.gz"
    _tar_with(archive, default_bundle, info, b"evil" if kind == "file" else b"")
    with pytest.raises(errors.BundleIntegrityError, match="outside the bundle|link"):
        emolite.load(archive)
    assert not (tmp_path / "outside.txt").exists()
    assert not list((tmp_path / "cache").rglob("evil*"))


def test_zip_member_leaving_the_folder_is_refused(tmp_path, default_bundle, monkeypatch):
    monkeypatch.setenv("EMOLITE_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in default_bundle.rglob("*"):
            zf.write(path, path.relative_to(default_bundle).as_posix())
        zf.writestr("../escape.txt", "evil")
    with pytest.raises(errors.BundleIntegrityError, match="outside the bundle"):
        emolite.load(archive)


def test_garbage_archive(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOLITE_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"this is not a zip file")
    with pytest.raises(errors.BundleIntegrityError, match="cannot unpack"):
        emolite.load(archive)
