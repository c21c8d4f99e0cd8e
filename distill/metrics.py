"""Classification metrics on 0/1 matrices, as scikit-learn computes them (one definition, not ours).

Conventions fixed here: predictions come first (`pred`, `gold`), a label with neither gold nor predicted
positives scores F1 0 (zero_division=0), and average precision skips labels without positives.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, f1_score


def f1_per_label(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """F1 of each column of (n, k) 0/1 matrices."""
    return f1_score(np.asarray(gold, bool), np.asarray(pred, bool), average=None, zero_division=0)


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(f1_score(np.asarray(gold, bool), np.asarray(pred, bool), average="macro", zero_division=0))


def micro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(f1_score(np.asarray(gold, bool), np.asarray(pred, bool), average="micro", zero_division=0))


def single_label_scores(pred_idx: np.ndarray, gold_idx: np.ndarray, n_labels: int) -> dict[str, float]:
    """Macro-F1 over all `n_labels` classes (absent ones count 0) and accuracy of class-index predictions."""
    f1 = f1_score(gold_idx, pred_idx, labels=np.arange(n_labels), average="macro", zero_division=0)
    return {"macro_f1": float(f1), "accuracy": float(accuracy_score(gold_idx, pred_idx))}


def average_precision(scores: np.ndarray, gold: np.ndarray) -> float:
    """Area under the precision-recall curve of one label; NaN when it has no positive."""
    gold = np.asarray(gold, bool)
    return float(average_precision_score(gold, scores)) if gold.any() else float("nan")


def macro_ap(scores: np.ndarray, gold: np.ndarray) -> float:
    """Mean average precision over labels that have positives: threshold-free, for checkpoint selection."""
    values = [average_precision(scores[:, j], gold[:, j]) for j in range(gold.shape[1])]
    return float(np.nanmean(values))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])
