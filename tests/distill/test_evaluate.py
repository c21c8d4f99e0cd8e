"""Evaluation: readers on the real data, metrics on hand-checked cases, the GPT-4 anchor, SDK parity."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emolite import datasets
from emolite.distill import evaluate, metrics
from emolite.distill.scoring import BundleScorer


def test_metrics_on_a_hand_checked_case():
    gold = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 1], [0, 1, 0], [1, 0, 0]], dtype=bool)
    # label 0: tp1 fp1 fn1 -> 0.5; label 1: tp2 -> 1.0; label 2: fp1 -> 0.0
    assert metrics.macro_f1(pred, gold) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert metrics.micro_f1(pred, gold) == pytest.approx(2 * 3 / (5 + 4))
    single = metrics.single_label_scores(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    assert single["accuracy"] == 0.75 and single["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert metrics.average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 0, 1])) == pytest.approx((1 + 2 / 3) / 2)


def test_readers_give_the_documented_test_splits(shared_data):
    sets = {s.name: s for s in datasets.all_sets(shared_data)}
    assert len(sets["goemotions-28"].texts) == 5427 and sets["goemotions-28"].gold.shape == (5427, 28)
    assert sets["goemotions-ekman-7"].labels[-1] == "neutral" and sets["goemotions-sentiment-4"].gold.shape[1] == 4
    assert sets["semeval-ec-11"].gold.shape == (3259, 11)
    assert len(sets["carer-6"].texts) == 2000 and sets["carer-6"].gold.max() == 5
    sizes = {e: len(sets[f"ei-reg-{e}"].texts) for e in ("anger", "fear", "joy", "sadness")}
    assert sizes == {"anger": 1002, "fear": 986, "joy": 1105, "sadness": 975}  # mystery rows dropped
    assert not any(i.startswith("2018-En-mystery-") for e in sizes for i in sets[f"ei-reg-{e}"].ids)
    # every GoEmotions row has a label, so every Ekman/sentiment row has a group
    assert sets["goemotions-ekman-7"].gold.any(axis=1).all()


def test_gpt4_anchor_reproduces_the_published_figures(shared_data):
    sets = datasets.goemotions(shared_data)
    anchor = evaluate.gpt4_anchor(shared_data, sets)
    assert anchor["goemotions-28"]["macro_f1"] == pytest.approx(0.309, abs=0.0015)
    assert anchor["goemotions-ekman-7"]["macro_f1"] == pytest.approx(0.435, abs=0.0015)


def test_decision_rule_matches_the_sdk(default_bundle, shared_data):
    """The evaluator's multi-label and single-label decisions equal Classifier.predict on real texts."""
    scorer = BundleScorer(default_bundle)
    texts = datasets.goemotions(shared_data, limit=50)[0].texts
    emb = scorer.embed(texts)
    for name in ("goemotions", "carer-6"):
        view = scorer.label_set(name)
        chosen = view.decide(view.probabilities(emb, scorer.logit_scale, scorer.logit_bias))
        preds = scorer.clf.predict(texts, labels=name)
        assert [sorted(view.labels[j] for j in np.flatnonzero(row)) for row in chosen] == [
            sorted(p.predicted) for p in preds
        ]


def test_evaluate_cli_on_a_slice_with_the_base_encoder(tmp_path, shared_data, default_bundle):
    from emolite.cli import main

    out = tmp_path / "eval"
    code = main(["evaluate", f"bundle={default_bundle}", "--out", str(out), "--limit", "40",
                 "--data", str(shared_data)])
    assert code == 0
    table = (tmp_path / "eval.md").read_text()
    assert "| bundle |" in table and "GPT-4 (teacher) labels" in table and "human labels in model" in table
    # the bounds table: threshold-free AP and test-fitted thresholds
    scores = json.loads((tmp_path / "eval.json").read_text())["models"]["bundle"]["scores"]
    for name in ("goemotions-28", "semeval-ec-11"):
        assert 0 < scores[name]["macro_ap"] <= 1 and scores[name]["test_fitted_macro_f1"] > 0
    assert 0 < scores["carer-6"]["macro_ap"] <= 1
    bounds = table.split("threshold-free macro-AP:")[1]
    assert "SemEval E-c 11 F1 at test-fitted thresholds" in bounds and "| bundle |" in bounds


def test_calibration_projects_teacher_labels_and_finds_separating_thresholds():
    from emolite.distill import calibrate

    assert calibrate.project(["annoyance", "joy"], "ekman", ()) == ["anger", "joy"]
    assert calibrate.project(["annoyance", "joy"], "semeval-11", ("anger", "joy", "trust")) == ["joy"]
    assert calibrate.project(["joy"], "semeval-11", ("joy",), same_name=False) is None
    mask = calibrate.teacher_labels("semeval-11", ("anger", "anticipation", "trust", "optimism"))
    assert mask.tolist() == [True, False, False, True]
    rng = np.random.default_rng(0)
    gold = rng.random((400, 3)) < 0.3
    probs = np.where(gold, 0.6 + 0.3 * rng.random(gold.shape), 0.4 * rng.random(gold.shape))
    values = calibrate.per_label(probs, gold, fallback=0.5, min_support=10, shrink=0.0)
    assert ((values > 0.4) & (values <= 0.6)).all()  # inside the gap that separates the classes
    t, f1 = calibrate.best_global(probs, gold)
    assert 0.4 <= t <= 0.6 and f1 > 0.8  # below 1: rows without gold still get their top label
