"""Export stage end to end on the real base encoder: both int8 formats, parity gates, both SDK backends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import emolite
from emolite import bundle as bundle_format
from emolite.export import parity, probes

MAX_MODEL_BYTES = 24_000_000


@pytest.fixture(scope="module")
def manifest(base_bundle) -> dict:
    return json.loads((base_bundle / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report(base_bundle) -> dict:
    return json.loads((base_bundle / "parity.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def probe() -> list[str]:
    return probes.probe_texts()


def test_probe_set_is_large_and_varied(probe):
    assert len(probe) >= 200 and len(set(probe)) == len(probe)
    assert any(len(t) > 600 for t in probe), "a text beyond 128 word pieces"
    assert any("https://" in t for t in probe) and any("def " in t for t in probe)
    assert any(ord(c) > 0x3000 for t in probe for c in t), "CJK text"


def test_every_gate_passes_per_format_and_the_flags_follow_the_figures(report, probe):
    assert report["pass"] is True and parity.overall_pass(report) is True
    assert set(report["formats"]) == {"onnx", "tflite"}
    for fmt, r in report["formats"].items():
        assert r["cosine"]["pass"] is parity.cosine_pass(r["cosine"]["mean"], r["cosine"]["min"]) is True, fmt
        z = r["zero_shot"]
        assert z["delta"] == round(z["macro_f1_int8"] - z["macro_f1_fp32"], 4), fmt
        assert z["pass"] is parity.f1_pass(z["delta"]) is True, fmt
    assert report["tokenizer"] == {"texts": len(probe), "mismatches": 0, "first_mismatch": None, "pass": True}
    assert report["probe_texts"] == len(probe) and report["dev_texts"] == 1000


def test_manifest_follows_the_v2_contract(base_bundle, manifest, report):
    bundle_format.validate_manifest(manifest)
    assert manifest["format_version"] == bundle_format.FORMAT_VERSION == 2
    raw = (base_bundle / bundle_format.MANIFEST).read_bytes()
    digest = (base_bundle / bundle_format.MANIFEST_DIGEST).read_text().strip()
    assert bundle_format.check_manifest_digest(base_bundle, raw) == digest
    assert set(manifest["files"]) == {
        p.relative_to(base_bundle).as_posix()
        for p in base_bundle.rglob("*")
        if p.is_file() and p.name not in (bundle_format.MANIFEST, bundle_format.MANIFEST_DIGEST)
    }
    assert manifest["parity"] == {"file": "parity.json", "pass": report["pass"]}
    timings = {fmt: r["probe_ms_per_text"] for fmt, r in report["formats"].items()}
    assert manifest["preferred_backend"] == min(timings, key=timings.get)


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
    bundle_format.write_manifest(copy, manifest)  # a consistent bundle: only the runtime check can refuse it
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
    rule = parity.scoring_from_bundle(clf.bundle, label_set)
    decided = rule.decisions(clf.embed(probe))
    for row, prediction in zip(decided, clf.predict(probe, labels=label_set)):
        assert sorted(np.asarray(rule.labels)[row]) == sorted(prediction.predicted)


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


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("--formats", "onnx,coreml", "coreml"), ("--label-sets", "ekman, nope", "nope")],
)
def test_cli_refuses_unknown_formats_and_label_sets(tmp_path, capsys, option, value, named):
    from emolite.cli import main

    assert main(["export", "base", "--out", str(tmp_path / "b"), option, value]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_special_tokens_come_from_the_tokenizers_own_post_processor(base_bundle, tmp_path):
    """BERT's [CLS]/[SEP]/[PAD] from its template; a RoBERTa-style processor (all-mpnet-base-v2's) names its own."""
    from tokenizers import Tokenizer, processors

    from emolite.export.bundle_writer import tokenizer_settings

    bert = json.loads((base_bundle / "tokenizer.json").read_text(encoding="utf-8"))
    settings = tokenizer_settings(bert, bert["model"]["vocab"], 128)
    assert (settings["cls_id"], settings["sep_id"], settings["pad_id"], settings["unk_id"]) == (101, 102, 0, 100)

    tokenizer = Tokenizer.from_file(str(base_bundle / "tokenizer.json"))
    tokenizer.post_processor = processors.RobertaProcessing(("[unused2]", 3), ("[unused0]", 1))
    tokenizer.enable_padding(pad_id=2, pad_token="[unused1]")
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    roberta = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    settings = tokenizer_settings(roberta, roberta["model"]["vocab"], 128)
    assert settings["cls_token"] == "[unused0]" and settings["sep_token"] == "[unused2]"
    assert (settings["cls_id"], settings["sep_id"], settings["pad_id"]) == (1, 3, 2)
    assert tokenizer.encode("ok").ids[0] == settings["cls_id"]
