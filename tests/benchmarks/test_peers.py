"""The peers on the real base encoder: PyTorch fp32 and the export stage's fp32 ONNX (export extra needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from emolite.benchmarks.runner import BenchConfig, measure_subject, ratio_rows  # noqa: E402
from emolite.benchmarks.subjects import SubjectUnavailable, make_subject  # noqa: E402


@pytest.fixture(scope="module")
def bench_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("EMOLITE_CACHE", str(tmp_path_factory.mktemp("bench-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def base_clf(base_bundle):
    """The peers run the base encoder, so compare them with a bundle quantised from it (not the distilled default)."""
    import emolite

    return emolite.load(base_bundle, backend="onnx")


def _ids(clf, text):
    ids = np.asarray([clf.encoder.encode([text])[0][0]], dtype=np.int64)
    return ids, np.ones_like(ids)


def test_pytorch_peer_is_the_same_encoder(base_clf, base_bundle):
    clf = base_clf
    peer = make_subject("pytorch-fp32", base_bundle, threads=1)
    assert peer.precision == "fp32" and peer.runtime.startswith("torch ")
    assert peer.golden_cosine > 0.95  # the int8 bundle was quantised from this encoder (worst text ~0.97)
    ids, mask = _ids(clf, "I can't believe I won the lottery!")
    fp32, int8 = peer.run(ids, mask)[0], clf.backend.run(ids, mask)[0]
    assert abs(np.linalg.norm(fp32) - 1) < 1e-4 and float(fp32 @ int8) > 0.95
    assert sum(peer.files.values()) > 80e6  # fp32 weights, about 4x the int8 model
    assert (
        peer.classifier.predict("thank you so much!").labels[0] == clf.predict("thank you so much!").labels[0]
    )


def test_onnx_fp32_peer_is_exported_once_and_cached(bench_cache, base_clf, base_bundle):
    clf = base_clf
    first = make_subject("onnx-fp32", base_bundle, threads=1)
    path = Path(first.info["model"])
    written = path.stat().st_mtime_ns
    again = make_subject("onnx-fp32", base_bundle, threads=1)
    assert Path(again.info["model"]) == path and path.stat().st_mtime_ns == written  # reused, not re-exported
    # the export is exact: the fp32 ONNX graph computes what the PyTorch encoder computes
    torch_peer = make_subject("pytorch-fp32", base_bundle, threads=1)
    ids, mask = _ids(clf, "Ugh, the train is late again.")
    assert float(again.run(ids, mask)[0] @ torch_peer.run(ids, mask)[0]) > 0.99999
    assert first.golden_cosine > 0.95


def test_unknown_and_unavailable_subjects(tmp_path):
    with pytest.raises(ValueError, match="unknown subject"):
        make_subject("cuda", None, 1)
    with pytest.raises(SubjectUnavailable, match="no checkpoint folder"):
        make_subject("onnx-fp32", None, 1, checkpoint=str(tmp_path / "missing"))


def test_ratios_against_pytorch(bench_cache):
    cfg = BenchConfig(
        subjects=("onnx", "pytorch-fp32"),
        threads=(1,),
        lengths=(16,),
        batches=(1,),
        warmup=1,
        runs=5,
        e2e_texts=6,
        throughput_texts=2,
        processes=False,
    )
    from emolite.benchmarks.texts import load_texts

    items = load_texts()[0][:6]
    rows = [measure_subject(name, 1, cfg, items) for name in cfg.subjects]
    (ratio,) = ratio_rows(rows)
    assert ratio["subject"] == "onnx" and ratio["reference"] == "pytorch-fp32"
    expected = rows[1]["e2e_texts"]["p50"] / rows[0]["e2e_texts"]["p50"]
    assert ratio["e2e_texts_p50_speedup"] == pytest.approx(expected, rel=1e-2)
    assert 0.15 < ratio["size_ratio"] < 0.35  # int8 is about a quarter of fp32


def test_sentence_transformers_peer_is_the_same_encoder():
    """What a sentence-transformers user runs (its own encode), on the same base encoder as the PyTorch peer."""
    pytest.importorskip("sentence_transformers")
    st = make_subject("sentence-transformers", None, threads=1)
    torch_peer = make_subject("pytorch-fp32", None, threads=1)
    assert st.precision == "fp32" and st.runtime.startswith("sentence-transformers ")
    assert sum(st.files.values()) > 80e6 and st.info["max_seq_length"] == 128  # the SDK's truncation
    text = "Ugh, the train is late again."
    ids, mask = _ids(torch_peer.classifier, text)
    assert float(st.run(ids, mask)[0] @ torch_peer.run(ids, mask)[0]) > 0.9999  # model-only: same numbers
    # end to end through SentenceTransformer.encode (its tokenizer) vs the SDK's tokenisation + the same model
    assert float(st.classifier.embed(text) @ torch_peer.classifier.embed(text)) > 0.9999
    assert st.classifier.predict(text).labels == torch_peer.classifier.predict(text).labels
