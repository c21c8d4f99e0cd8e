"""Classification metrics on 0/1 matrices (numpy only): macro/micro F1, accuracy, average precision."""

from __future__ import annotations

import numpy as np


def f1_per_label(pred: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """F1 of each column; a label with no gold and no predicted positive scores 0 (scikit-learn's default)."""
    tp = (pred & gold).sum(axis=0).astype(float)
    denom = pred.sum(axis=0) + gold.sum(axis=0)
    return np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    return float(f1_per_label(pred.astype(bool), gold.astype(bool)).mean())


def micro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    pred, gold = pred.astype(bool), gold.astype(bool)
    denom = pred.sum() + gold.sum()
    return float(2 * (pred & gold).sum() / denom) if denom else 0.0


def single_label_scores(pred_idx: np.ndarray, gold_idx: np.ndarray, n_labels: int) -> dict[str, float]:
    """Macro-F1 and accuracy of single-label predictions given as class indices."""
    eye = np.eye(n_labels, dtype=bool)
    return {"macro_f1": macro_f1(eye[pred_idx], eye[gold_idx]), "accuracy": float((pred_idx == gold_idx).mean())}


def average_precision(scores: np.ndarray, gold: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise) of one label; NaN when it has no positive."""
    positives = int(gold.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    hits = gold[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / positives)


def macro_ap(scores: np.ndarray, gold: np.ndarray) -> float:
    """Mean average precision over labels that have positives: threshold-free, for checkpoint selection."""
    values = [average_precision(scores[:, j], gold[:, j]) for j in range(gold.shape[1])]
    return float(np.nanmean(values))


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(np.asarray(x, float), np.asarray(y, float))[0, 1])
