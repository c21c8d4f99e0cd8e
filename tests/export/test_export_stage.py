"""Export stage end to end on the real base encoder: both int8 formats, parity gates, both SDK backends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import emolite
from emolite.export import data, parity

MAX_MODEL_BYTES = 24_000_000


@pytest.fixture(scope="module")
def manifest(base_bundle) -> dict:
    return json.loads((base_bundle / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(base_bundle) -> dict:
    return json.loads((base_bundle / "parity.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def probe() -> list[str]:
    return data.probe_texts()


def test_probe_set_is_large_and_varied(probe):
    assert len(probe) >= 200 and len(set(probe)) == len(probe)
    assert any(len(t) > 600 for t in probe), "a text beyond 128 word pieces"
    assert any("https://" in t for t in probe) and any("def " in t for t in probe)
    assert any(ord(c) > 0x3000 for t in probe for c in t), "CJK text"


def test_every_gate_passes_per_format(report):
    assert report["pass"] is True
    assert set(report["formats"]) == {"onnx", "tflite"}
    for fmt, r in report["formats"].items():
        assert r["cosine"]["mean"] >= 0.99 and r["cosine"]["min"] >= 0.95, fmt
        assert abs(r["zero_shot"]["delta"]) <= 0.01, fmt
        assert r["zero_shot"]["macro_f1_int8"] > 0.05, fmt
    assert report["tokenizer"] == {**report["tokenizer"], "mismatches": 0, "pass": True}
    assert report["probe_texts"] >= 200 and report["dev_texts"] == 1000


def test_bundle_lists_every_artifact_and_models_fit(base_bundle, manifest):
    for rel in ("model.onnx", "model.tflite", "parity.json", "README.md", "tokenizer.json", "vocab.txt"):
        assert rel in manifest["files"], rel
    for fmt in ("onnx", "tflite"):
        assert (base_bundle / manifest["formats"][fmt]["file"]).stat().st_size <= MAX_MODEL_BYTES
        assert len(manifest["golden"]["embeddings"][fmt]) == len(manifest["golden"]["texts"])
    assert manifest["formats"]["tflite"]["signatures"] == {"L16": 16, "L32": 32, "L64": 64, "L128": 128}
    assert manifest["preferred_backend"] in ("onnx", "tflite")
    assert "PASS" in (base_bundle / "README.md").read_text(encoding="utf-8")


def test_both_backends_load_and_agree(base_bundle, probe):
    onnx = emolite.load(base_bundle, backend="onnx", threads=1)
    tflite = emolite.load(base_bundle, backend="tflite", threads=1)
    assert tflite.backend.runtime == "ai-edge-litert"
    a, b = onnx.embed(probe), tflite.embed(probe)
    assert float(np.sum(a * b, axis=1).min()) > 0.95
    tops_a = [p.top for p in onnx.predict(probe[:50])]
    tops_b = [p.top for p in tflite.predict(probe[:50])]
    assert np.mean([x == y for x, y in zip(tops_a, tops_b)]) >= 0.8


def test_tflite_picks_smallest_bucket_and_ignores_chunk_padding(base_bundle):
    clf = emolite.load(base_bundle, backend="tflite", threads=1)
    backend = clf.backend
    assert [backend.bucket(n) for n in (1, 16, 17, 64, 65, 128)] == [16, 16, 32, 64, 128, 128]
    with pytest.raises(ValueError):
        backend.bucket(129)
    short, long = "ok", "a fairly long sentence " * 10
    alone = clf.embed([short])[0]
    together = clf.embed([short, long])[0]  # one chunk: "ok" padded to the long text's length
    np.testing.assert_allclose(alone, together, atol=1e-6)


def test_auto_takes_the_preferred_backend_and_env_overrides(base_bundle, manifest, monkeypatch):
    assert emolite.load(base_bundle).backend_name == manifest["preferred_backend"]
    other = "onnx" if manifest["preferred_backend"] == "tflite" else "tflite"
    monkeypatch.setenv("EMOLITE_BACKEND", other)
    assert emolite.load(base_bundle).backend_name == other


def _tampered_copy(base_bundle: Path, tmp_path: Path, fmt: str) -> Path:
    copy = tmp_path / "tampered"
    shutil.copytree(base_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    golden = np.asarray(manifest["golden"]["embeddings"][fmt])
    # A runtime that loads the model but computes it wrongly returns vectors unlike the golden ones.
    manifest["golden"]["embeddings"][fmt] = np.roll(golden, 1, axis=1).tolist()
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return copy


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_runtime_disagreeing_with_golden_vectors_is_refused(base_bundle, tmp_path, fmt):
    copy = _tampered_copy(base_bundle, tmp_path, fmt)
    with pytest.raises(emolite.RuntimeVerificationError, match="ai-edge-litert"):
        emolite.load(copy, backend=fmt)


def test_missing_tflite_runtime_names_ai_edge_litert(base_bundle, monkeypatch):
    pytest.importorskip("ai_edge_litert")
    try:
        import tflite_runtime  # noqa: F401

        pytest.skip("tflite-runtime is installed here")
    except ImportError:
        pass
    monkeypatch.setenv("EMOLITE_TFLITE_RUNTIME", "tflite-runtime")
    with pytest.raises(emolite.BackendUnavailableError, match="ai-edge-litert"):
        emolite.load(base_bundle, backend="tflite")
    assert emolite.load(base_bundle, backend="auto").backend_name == "onnx"


@pytest.mark.parametrize("label_set", ["goemotions", "isear-7"])
def test_gate_decision_rule_is_the_sdks(base_bundle, probe, label_set):
    clf = emolite.load(base_bundle, backend="onnx")
    scoring = parity.scoring_from_bundle(clf.bundle, label_set)
    decided = scoring.decide(clf.embed(probe))
    for row, prediction in zip(decided, clf.predict(probe, labels=label_set)):
        assert sorted(np.asarray(scoring.labels)[row]) == sorted(prediction.predicted)


def test_macro_f1_counts_each_label_once():
    gold = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=bool)
    # label 0: tp 1, fp 1 -> 2/3; label 1: tp 1, fn 1 -> 2/3; label 2: absent everywhere -> 0
    assert parity.macro_f1(pred, gold) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_gates_fail_on_a_wrong_reference(base_bundle, probe):
    rng = np.random.default_rng(0)
    wrong = rng.normal(size=(len(probe), 384)).astype(np.float32)
    wrong /= np.linalg.norm(wrong, axis=1, keepdims=True)
    dev = data.goemotions_teacher_dev(200)
    clf = emolite.load(base_bundle, backend="onnx")
    scoring = parity.scoring_from_bundle(clf.bundle)
    ref = parity.Reference(
        wrong, clf.embed(dev.texts), parity.multi_hot(dev.labels, scoring.labels), scoring.embeddings
    )
    result = parity.format_report(clf, ref, probe, dev.texts, scoring)
    assert result["cosine"]["pass"] is False and result["zero_shot"]["pass"] is True


def test_tokenizer_gate_catches_a_different_normaliser(base_bundle, tmp_path, probe):
    from tokenizers import Tokenizer, normalizers

    tokenizer = Tokenizer.from_file(str(base_bundle / "tokenizer.json"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    result = parity.tokenizer_gate(tmp_path / "tokenizer.json", "base", 128, probe)
    assert result["pass"] is False and result["mismatches"] > 10


def test_vocab_written_from_tokenizer_json_when_checkpoint_has_none(tmp_path):
    from emolite.distill.model import base_model_path
    from emolite.export.bundle_writer import write_vocab

    # A trained checkpoint folder has tokenizer.json but no vocab.txt.
    shutil.copyfile(base_model_path() / "tokenizer.json", tmp_path / "tokenizer.json")
    write_vocab(tmp_path, tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_bytes() == (base_model_path() / "vocab.txt").read_bytes()


def test_cli_refuses_an_unknown_format(tmp_path, capsys):
    from emolite.cli import main

    assert main(["export", "base", "--out", str(tmp_path / "b"), "--formats", "onnx,coreml"]) == 2
    assert "coreml" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
