"""The label-free selection protocol, probability calibration and weight averaging, on constructed inputs
and the real base encoder."""

from __future__ import annotations

import re

import numpy as np
import pytest

from emolite.catalog import DEFINITIONS, GOEMOTIONS, LABEL_SETS
from emolite.distill import calibrate, data, protocol
from emolite.distill.data import PARAPHRASES, TRAIN_TEMPLATES, Example, TrainingDataError


def test_folds_cover_every_emotion_once_and_never_neutral():
    folds = [protocol.fold_labels(f) for f in range(protocol.FOLDS)]
    flat = [label for fold in folds for label in fold]
    assert sorted(flat) == sorted(label for label in GOEMOTIONS if label != "neutral")
    assert len(flat) == len(set(flat)) and all(len(f) >= 6 for f in folds)


def test_unseen_wording_never_appears_in_training():
    wording = protocol.unseen_wording()
    assert list(wording) == list(GOEMOTIONS) and all(len(v) >= 2 for v in wording.values())
    trained_words = set(GOEMOTIONS)
    for key in GOEMOTIONS:
        trained_words.update(p.lower() for p in PARAPHRASES.get(key, ()) if " " not in p)
    trained_texts = {t.format(label=w).lower() for t in TRAIN_TEMPLATES for w in trained_words}
    trained_texts |= {f"{k}: {d}".lower() for k, d in DEFINITIONS.items()}
    for label, phrasings in wording.items():
        for phrase in phrasings:
            words = set(re.findall(r"[a-z']+", phrase.lower()))
            assert not words & trained_words, (label, phrase, words & trained_words)
            assert phrase.lower() not in trained_texts


def test_excluded_labels_leave_training_but_not_the_heldout():
    examples = [Example(str(i), f"text {i}", labels) for i, labels in
                enumerate([("joy",), ("joy", "anger"), ("anger",), ("fear", "joy")])]
    kept = data.without_labels(examples, ["joy"])
    assert [(e.id, e.labels) for e in kept] == [("1", ("anger",)), ("2", ("anger",)), ("3", ("fear",))]
    assert all("joy" not in key for e in kept for key in e.labels)


def test_test_texts_never_train(tmp_path):
    with pytest.raises(TrainingDataError, match="evaluation only"):
        data.store_examples(tmp_path / "none.sqlite", split="train,test")


def test_grouped_sets_can_embed_their_members():
    plain = LABEL_SETS["ekman"].prompts()
    members = LABEL_SETS["ekman"].prompts(members=True)
    assert members["joy"][: len(plain["joy"])] == plain["joy"]
    assert any(p.startswith("gratitude") or "gratitude" in p for p in members["joy"])
    assert members["disgust"] == plain["disgust"]  # a group of itself only
    assert LABEL_SETS["carer-6"].prompts(members=True) == LABEL_SETS["carer-6"].prompts()


# -- calibration ---------------------------------------------------------------------------------------
def test_platt_recovers_the_generating_scale_and_biases():
    rng = np.random.default_rng(0)
    cos = rng.uniform(-0.2, 0.8, size=(20000, 3))
    true_scale, true_bias = 12.0, np.array([-6.0, -4.0, -8.0])
    gold = rng.random(cos.shape) < 1 / (1 + np.exp(-(true_scale * cos + true_bias)))
    scale, bias = calibrate.fit_platt(cos, gold, scale=5.0, bias=-2.0, min_support=1)
    assert abs(scale - true_scale) < 0.6 and np.all(np.abs(bias - true_bias) < 0.4)


def test_ece_is_zero_for_calibrated_and_large_for_overconfident_probabilities():
    rng = np.random.default_rng(1)
    p = rng.random(50000)
    y = rng.random(50000) < p
    assert calibrate.expected_calibration_error(p, y) < 0.01
    assert calibrate.expected_calibration_error(np.where(p > 0.5, 0.99, 0.01), y) > 0.2


def test_temperature_fit_prefers_the_scale_that_generated_the_labels():
    rng = np.random.default_rng(2)
    cos = rng.uniform(0, 1, size=(8000, 4))
    z = 8.0 * cos
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    target = np.array([rng.choice(4, p=row) for row in p])
    assert abs(calibrate.fit_temperature(cos, target, scale=2.0) - 8.0) < 0.8


# -- weight averaging ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_encoder():
    from emolite.distill.model import StudentEncoder

    return StudentEncoder.from_pretrained("base")


def test_weight_averaging_is_a_straight_line_between_the_models(base_encoder):
    import torch

    from emolite.distill.model import average_with_base

    moved = average_with_base(base_encoder, 1.0)
    with torch.no_grad():
        for p in moved.transformer.parameters():
            p.add_(1.0)  # a "fine-tuned" model: every weight + 1
    half = average_with_base(moved, 0.25)
    key = "encoder.layer.0.attention.self.query.weight"
    base = base_encoder.transformer.state_dict()[key]
    np.testing.assert_allclose(half.transformer.state_dict()[key].numpy(), (base + 0.25).numpy(), atol=1e-6)
    assert half.meta["weight_averaging"]["weight"] == 0.25
    same = average_with_base(base_encoder, 0.0)
    assert torch.equal(same.transformer.state_dict()[key], base)
    with pytest.raises(ValueError):
        average_with_base(base_encoder, 1.5)


def test_protocol_axes_on_the_base_encoder(base_encoder, shared_data):
    from emolite import datasets
    from emolite.distill.scoring import TorchScorer

    rows = list(datasets.gpt4_rows("dev"))[:300]
    held = protocol.Heldout([Example(r.id, r.text, r.labels) for r in rows if r.labels])
    scorer = TorchScorer(base_encoder, thresholds={}, calibration={})
    values = protocol.evaluate(scorer, held, fold_scorers=[scorer] * protocol.FOLDS)
    assert set(values) == {"unseen_wording", "coarse", "in_domain", "unseen_emotions", "heldout_texts"}
    # chance level of macro-AP is the mean label rate; the base encoder is above it on every axis
    gold = held.gold(scorer.label_set("goemotions"))
    chance = float(np.nanmean(np.where(gold.any(0), gold.mean(0), np.nan)))
    assert values["in_domain"] > chance and values["unseen_wording"] > chance and values["unseen_emotions"] > chance
