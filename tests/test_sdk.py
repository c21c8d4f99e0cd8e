"""The SDK on the real shipped bundle with the real ONNX Runtime."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import emolite


def test_import_never_loads_heavy_stages():
    code = (
        "import sys, emolite; emolite.load().predict('so happy'); "
        "heavy = [m for m in ('torch', 'transformers', 'tensorflow', 'jax') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scores_rank_obvious_emotions(clf):
    scores = clf.scores(["I am furious", "what a lovely day"], ["anger", "joy"])
    assert scores.shape == (2, 2)
    assert scores[0].argmax() == 0 and scores[1].argmax() == 1
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)  # custom lists default to single-label


def test_predict_default_label_set(clf, default_bundle):
    pred = clf.predict("I can't believe I won!")
    assert isinstance(pred, emolite.Prediction)
    assert pred.label_set == "goemotions"
    assert sorted(pred.labels) == sorted(clf.bundle.label_set("goemotions").labels)
    assert pred.scores == sorted(pred.scores, reverse=True)
    assert pred.predicted and set(pred.predicted) <= set(pred.labels)
    assert pred.labels[0] in pred.predicted
    assert set(pred.to_dict()) == {"sequence", "labels", "scores", "predicted"}


def test_predict_batch_matches_single_calls(clf):
    texts = ["I am so scared of the dark", "thank you so much!", "the report is due friday", "a " * 300]
    batch = clf.predict(texts, labels="ekman")
    assert isinstance(batch, list) and len(batch) == len(texts)
    for text, pred in zip(texts, batch):
        single = clf.predict(text, labels="ekman")
        assert pred.sequence == text
        assert pred.labels == single.labels
        np.testing.assert_allclose(pred.scores, single.scores, atol=1e-4)


def test_single_label_set_predicts_one(clf):
    for pred in clf.predict(["I miss her so much", "best day ever"], labels="carer-6"):
        assert len(pred.predicted) == 1
        assert pred.predicted[0] == pred.labels[0]
        assert abs(sum(pred.scores) - 1.0) < 1e-4


def test_custom_labels_are_cached_and_top_k(clf):
    labels = ["nostalgia", "hope", "dread"]
    pred = clf.predict("I remember the old summers at grandma's house", labels=labels, top_k=2)
    assert len(pred.labels) == 2 and set(pred.labels) <= set(labels)
    assert pred.label_set is None
    assert set(labels) <= set(clf._label_cache)


def test_embed_shapes_and_norm(clf):
    one = clf.embed("hello")
    many = clf.embed(["hello", "a much longer sentence about feelings and weather"])
    assert one.shape == (clf.bundle.dim,) and one.dtype == np.float32
    assert many.shape == (2, clf.bundle.dim)
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(many[0], one, atol=1e-5)


def test_empty_batch_is_a_defined_result(clf):
    assert clf.predict([]) == []
    assert clf.scores([], labels="ekman").shape == (0, 7)
    assert clf.embed([]).shape == (0, clf.bundle.dim)


def test_long_text_is_truncated_and_flagged(clf):
    pred = clf.predict("so angry " * 400)
    assert pred.truncated is True
    assert clf.predict("short text").truncated is False


@pytest.mark.parametrize(
    "text",
    ["😂😂😂🔥", "我今天很难过", "אני שמח מאוד", "مرحبا بالعالم", "e\u0301e\u0301 cafe\u0301", "bad \ud800 half",
     "\u200b\u200d zero width", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇", "\x00\x01 control"],
)
def test_unicode_of_every_kind_does_not_crash(clf, text):
    pred = clf.predict(text)
    assert np.all(np.isfinite(pred.scores))


def test_thread_safe_predictions(clf):
    texts = [f"message number {i}: I feel {'great' if i % 2 else 'awful'} today" for i in range(24)]
    expected = [p.labels[0] for p in clf.predict(texts, labels="sentiment")]
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            words = ["calm", "rage", f"label{k}"]  # new custom labels race on the label cache
            clf.predict(texts[:3], labels=words)
            results[k] = [p.labels[0] for p in clf.predict(texts, labels="sentiment")]
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(r == expected for r in results.values()) and len(results) == 8


def test_label_sets_listed():
    names = emolite.label_sets()
    for required in ("goemotions", "ekman", "sentiment"):
        assert required in names
    goemotions = emolite.load().bundle.label_set("goemotions")
    assert len(goemotions.labels) == 28 and "neutral" in goemotions.labels
    assert len(emolite.load().bundle.label_set("ekman").labels) == 7
