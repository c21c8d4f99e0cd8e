"""distill's metrics and threshold sweeps against scikit-learn, the oracle, on random inputs.

The inputs include the cases the conventions are about: labels with neither gold nor predicted positives
(F1 0), labels without positives (left out of macro-AP), classes absent from a single-label slice.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from emolite.distill import calibrate, metrics


def _multi(seed: int, n: int = 300, k: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gold = rng.random((n, k)) < rng.uniform(0.02, 0.4, size=k)
    scores = 0.3 * gold + 0.7 * rng.random((n, k))
    pred = scores >= 0.6
    gold[:, 0] = pred[:, 0] = False  # neither gold nor predicted: F1 0 by convention
    gold[:, 1] = False  # predicted but never gold
    return pred, gold, scores


@pytest.mark.parametrize("seed", range(5))
def test_f1_equals_sklearn_per_label(seed):
    pred, gold, _ = _multi(seed)
    per_label = [f1_score(gold[:, j], pred[:, j], zero_division=0) for j in range(gold.shape[1])]
    assert metrics.f1_per_label(pred, gold) == pytest.approx(per_label)
    assert metrics.macro_f1(pred, gold) == pytest.approx(np.mean(per_label))
    assert metrics.f1_per_label(pred, gold)[:2].tolist() == [0.0, 0.0]
    tp, fp, fn = (pred & gold).sum(), (pred & ~gold).sum(), (~pred & gold).sum()
    assert metrics.micro_f1(pred, gold) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert metrics.micro_f1(pred, gold) == pytest.approx(f1_score(gold.ravel(), pred.ravel()))


@pytest.mark.parametrize("seed", range(5))
def test_macro_ap_is_sklearn_ap_over_labels_with_positives(seed):
    _, gold, scores = _multi(seed)
    with_positives = [j for j in range(gold.shape[1]) if gold[:, j].any()]
    assert with_positives and 0 not in with_positives
    expected = np.mean([average_precision_score(gold[:, j], scores[:, j]) for j in with_positives])
    assert metrics.macro_ap(scores, gold) == pytest.approx(expected)
    assert np.isnan(metrics.average_precision(scores[:, 0], gold[:, 0]))


@pytest.mark.parametrize("seed", range(5))
def test_single_label_scores_count_absent_classes(seed):
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 5, size=200)
    pred = np.where(rng.random(200) < 0.6, gold, rng.integers(0, 5, size=200))
    scores = metrics.single_label_scores(pred, gold, n_labels=6)  # class 5 never occurs: it counts 0
    per_class = [f1_score(gold == c, pred == c, zero_division=0) for c in range(6)]
    assert scores["macro_f1"] == pytest.approx(np.mean(per_class))
    assert scores["accuracy"] == pytest.approx(accuracy_score(gold, pred))


@pytest.mark.parametrize("seed", range(3))
def test_threshold_sweeps_pick_the_sklearn_optimum(seed):
    """The calibration's vectorised sweeps give the F1 that scikit-learn computes threshold by threshold."""
    _, gold, scores = _multi(seed, k=4)
    gold[:, :2] = np.random.default_rng(seed).random((len(gold), 2)) < 0.2  # every label has support
    t, f1 = calibrate.best_global(scores, gold)

    def sdk_decision(threshold: float) -> np.ndarray:
        chosen = scores >= threshold
        chosen[np.arange(len(scores)), scores.argmax(axis=1)] = True
        return chosen

    grid = [f1_score(gold, sdk_decision(x), average="macro", zero_division=0) for x in calibrate.GRID]
    assert f1 == pytest.approx(max(grid)) and t == pytest.approx(calibrate.GRID[int(np.argmax(grid))])

    values = calibrate.per_label(scores, gold, fallback=0.5, min_support=1, shrink=0.0)
    for j in range(gold.shape[1]):
        curve = np.array([f1_score(gold[:, j], scores[:, j] >= x, zero_division=0) for x in calibrate.GRID])
        best = calibrate.GRID[curve >= curve.max() - 1e-9]
        assert values[j] == pytest.approx(round(float(np.median(best)), 3))
