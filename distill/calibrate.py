"""Decision thresholds fitted on held-out teacher labels (never on human labels).

Label sets the teacher annotated directly (GoEmotions) or that are published groupings of it (Ekman,
sentiment) get thresholds fitted against the teacher's labels projected onto them. Sets with no teacher
projection get the single threshold that is best across the projected sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emolite import scoring
from emolite.catalog import GOEMOTIONS, GOEMOTIONS_GROUPS

from .metrics import f1_per_label, macro_f1
from .scoring import LabelView, Scorer

GRID = np.round(np.arange(0.02, 0.99, 0.01), 2)


def project(keys: Sequence[str], label_set: str, labels: Sequence[str], same_name: bool = True) -> list[str] | None:
    """Teacher (GoEmotions) label keys expressed in `label_set`'s labels, or None without a projection.

    GoEmotions maps to itself, Ekman and sentiment through the published groupings; any other set (with
    `same_name`) through label words it shares with the teacher's label set ('anger' is 'anger').
    """
    if label_set == "goemotions":
        return [k for k in keys if k in labels]
    groups = GOEMOTIONS_GROUPS.get(label_set)
    if groups is not None:
        return [group for group, members in groups.items() if any(k in members for k in keys)]
    return [k for k in keys if k in labels] if same_name else None


def teacher_labels(label_set: str, labels: Sequence[str], same_name: bool = True) -> np.ndarray:
    """Which of a set's labels the teacher's labels can speak for (a 0/1 mask over `labels`)."""
    if label_set == "goemotions" or label_set in GOEMOTIONS_GROUPS:
        return np.ones(len(labels), dtype=bool)
    return np.array([same_name and label in GOEMOTIONS for label in labels], dtype=bool)


def teacher_matrix(label_keys: Sequence[Sequence[str]], view: LabelView, same_name: bool = True) -> np.ndarray | None:
    """0/1 matrix (texts x labels) of teacher labels projected onto the view's label set, or None."""
    rows = []
    for keys in label_keys:
        projected = project(keys, view.name, view.labels, same_name)
        if projected is None:
            return None
        rows.append([label in projected for label in view.labels])
    return np.array(rows, dtype=bool)


def best_global(probs: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """The one threshold that maximises macro-F1 under the SDK decision rule: (threshold, macro-F1)."""
    best = (0.5, -1.0)
    for t in GRID:
        score = macro_f1(scoring.decide(probs, np.full(probs.shape[1], t), True), gold)
        if score > best[1]:
            best = (float(t), score)
    return best


def per_label(probs: np.ndarray, gold: np.ndarray, fallback: float, min_support: int, shrink: float) -> np.ndarray:
    """Per-label F1-optimal thresholds, pulled towards `fallback` by shrink * 1/(1+support/min_support)."""
    out = np.full(probs.shape[1], fallback)
    for j in range(probs.shape[1]):
        support = int(gold[:, j].sum())
        if support < min_support:
            continue
        preds = probs[:, j][:, None] >= GRID[None, :]
        f1 = f1_per_label(preds, np.repeat(gold[:, j][:, None], len(GRID), axis=1))
        # Flat optima are common: take the middle of the best plateau, not its first grid point.
        best = GRID[np.flatnonzero(f1 >= f1.max() - 1e-9)]
        t = float(np.median(best))
        weight = shrink / (1.0 + support / min_support)
        out[j] = (1 - weight) * t + weight * fallback
    return np.round(out, 3)


def fit_thresholds(
    scorer: Scorer,
    texts: Sequence[str],
    label_keys: Sequence[Sequence[str]],
    label_sets: Sequence[str],
    strategy: str = "per_label",
    min_support: int = 10,
    shrink: float = 0.5,
    same_name: bool = True,
) -> tuple[dict[str, dict[str, float]], dict[str, dict]]:
    """Thresholds {set: {label: t}} and a report {set: {...held-out teacher F1...}} for `scorer`.

    strategy: 'per_label' (F1-optimal per label, shrunk towards the set's best single threshold),
    'global' (one threshold per set), or 'fixed' (0.5 everywhere). Labels the teacher cannot speak for
    (e.g. 'trust') get their set's single threshold, or the median over the other sets when a set has
    no teacher-covered label at all.
    """
    if strategy not in ("per_label", "global", "fixed"):
        raise ValueError(f"unknown calibration strategy '{strategy}'; choose per_label, global or fixed")
    emb = scorer.embed(texts)
    thresholds: dict[str, dict[str, float]] = {}
    report: dict[str, dict] = {}
    pending = []
    for name in label_sets:
        view = scorer.label_set(name)
        known = teacher_labels(name, view.labels, same_name)
        if not view.multi_label:
            continue
        if not known.any():
            pending.append(view)
            continue
        gold = teacher_matrix(label_keys, view, same_name)[:, known]
        probs = view.probabilities(emb, scorer.logit_scale, scorer.logit_bias)[:, known]
        values, report[name] = fit_one(probs, gold, strategy, min_support, shrink)
        full = np.full(len(view.labels), report[name]["global_threshold"])
        full[known] = values
        thresholds[name] = dict(zip(view.labels, map(float, full)))
        report[name]["teacher_labels"] = [label for label, k in zip(view.labels, known) if k]
    seen = [r["global_threshold"] for r in report.values()]
    shared = 0.5 if strategy == "fixed" or not seen else float(np.median(seen))
    for view in pending:
        thresholds[view.name] = {label: shared for label in view.labels}
        report[view.name] = {"global_threshold": shared, "source": "median of the other sets' thresholds"}
    return thresholds, report


def fit_one(
    probs: np.ndarray, gold: np.ndarray, strategy: str, min_support: int, shrink: float
) -> tuple[np.ndarray, dict]:
    """Thresholds for the teacher-covered columns of one set, and its report entry."""
    t_global, _ = best_global(probs, gold)
    if strategy == "per_label":
        values = per_label(probs, gold, t_global, min_support, shrink)
    else:
        values = np.full(probs.shape[1], 0.5 if strategy == "fixed" else t_global)
    f1 = macro_f1(scoring.decide(probs, values.astype(np.float32), True), gold)
    return values, {"global_threshold": t_global, "heldout_teacher_macro_f1": round(f1, 4), "n": len(gold)}


# -- probability calibration: a set's own scale and per-label biases (Platt scaling) ----------------
THRESHOLD_FLOOR = 0.15  # calibrated probabilities: a decision threshold below this would not read as one


def expected_calibration_error(probs: np.ndarray, gold: np.ndarray, bins: int = 10) -> float:
    """ECE over every (text, label) pair: the bin-weighted gap between mean probability and hit rate."""
    p, y = np.asarray(probs, float).ravel(), np.asarray(gold, float).ravel()
    edges = np.minimum((p * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            gap += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return float(gap)


def fit_platt(
    cos: np.ndarray, gold: np.ndarray, scale: float, bias: float, min_support: int = 10
) -> tuple[float, np.ndarray]:
    """(scale, per-label biases) minimising the mean binary cross-entropy of sigmoid(scale * cos + b).

    One scale per set, one bias per label; a label's bias is pulled towards the set's mean bias with a
    weight that fades as its teacher support grows past `min_support` (rare labels keep the set's bias).
    Written by hand (30 lines) because scikit-learn's LogisticRegression cannot share one slope across
    labels; scipy's L-BFGS does the minimisation.
    """
    from scipy.optimize import minimize

    cos, gold = np.asarray(cos, float), np.asarray(gold, float)
    n, k = cos.shape
    pull = (min_support / (gold.sum(axis=0) + min_support)) / k

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        s, b = np.exp(theta[0]), theta[1:]
        z = s * cos + b
        value = float(np.mean(np.logaddexp(0.0, z) - gold * z))
        dz = (1.0 / (1.0 + np.exp(-z)) - gold) / (n * k)
        dev = b - b.mean()
        value += float(np.sum(pull * dev**2))
        db = dz.sum(axis=0) + 2 * pull * dev - 2 * np.sum(pull * dev) / k
        return value, np.concatenate([[float(np.sum(dz * cos) * s)], db])

    start = np.concatenate([[np.log(scale)], np.full(k, bias)])
    theta = minimize(loss, start, jac=True, method="L-BFGS-B").x
    return float(np.exp(theta[0])), theta[1:]


def fit_temperature(cos: np.ndarray, target: np.ndarray, scale: float) -> float:
    """The softmax scale minimising the cross-entropy of the single teacher label (single-label sets)."""
    from scipy.optimize import minimize_scalar

    cos = np.asarray(cos, float)

    def loss(log_s: float) -> float:
        z = np.exp(log_s) * cos
        z = z - z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), target]))

    best = minimize_scalar(loss, bounds=(np.log(scale) - 3, np.log(scale) + 3), method="bounded")
    return float(np.exp(best.x))


def calibrate_sets(
    scorer: Scorer,
    texts: Sequence[str],
    label_keys: Sequence[Sequence[str]],
    label_sets: Sequence[str],
    min_support: int = 10,
    shrink: float = 0.5,
) -> tuple[dict[str, dict[str, float]], dict[str, dict], dict[str, dict]]:
    """(thresholds, calibration, report) fitted on held-out teacher labels for every set in `label_sets`.

    Multi-label sets: Platt scale and biases on the labels the teacher speaks for (the others take the
    median bias), then F1-optimal thresholds on the calibrated probabilities, never below THRESHOLD_FLOOR.
    Single-label sets: a softmax scale fitted on the texts with exactly one teacher label in the set.
    The report gives each set's expected calibration error before and after, on the same texts.
    """
    emb = scorer.embed(texts)
    thresholds, calibration, report = {}, {}, {}
    for name in label_sets:
        view = scorer.label_set(name)
        known = teacher_labels(name, view.labels)
        if not known.any():
            continue
        gold = teacher_matrix(label_keys, view)[:, known]
        cos = emb @ view.embeddings.T
        if view.multi_label:
            thresholds[name], calibration[name], report[name] = _calibrate_multi(
                scorer, view, cos, gold, known, min_support, shrink
            )
        else:
            calibration[name], report[name] = _calibrate_single(scorer, cos, gold, known)
    return thresholds, calibration, report


def _calibrate_multi(scorer, view, cos, gold, known, min_support, shrink):
    old = scoring.sigmoid(scorer.logit_scale * cos[:, known] + scorer.logit_bias)
    scale, bias_known = fit_platt(cos[:, known], gold, scorer.logit_scale, scorer.logit_bias, min_support)
    bias = np.full(len(view.labels), float(np.median(bias_known)))
    bias[known] = bias_known
    probs = scoring.sigmoid(scale * cos + bias)
    t_global, _ = best_global(probs[:, known], gold)
    t_global = max(t_global, THRESHOLD_FLOOR)
    values = np.maximum(per_label(probs[:, known], gold, t_global, min_support, shrink), THRESHOLD_FLOOR)
    full = np.full(len(view.labels), t_global)
    full[known] = values
    decided = scoring.decide(probs[:, known], values.astype(np.float32), True)
    entry = {
        "ece_before": round(expected_calibration_error(old, gold), 4),
        "ece": round(expected_calibration_error(probs[:, known], gold), 4),
        "heldout_teacher_macro_f1": round(macro_f1(decided, gold), 4),
        "global_threshold": t_global,
        "n": len(gold),
        "teacher_labels": [label for label, k in zip(view.labels, known) if k],
    }
    own = {"logit_scale": round(scale, 5), "logit_bias": [round(float(b), 5) for b in bias]}
    return dict(zip(view.labels, map(float, np.round(full, 3)))), own, entry


def _calibrate_single(scorer, cos, gold, known):
    one = gold.sum(axis=1) == 1
    target = gold[one].argmax(axis=1)
    sub = cos[one][:, known]
    scale = fit_temperature(sub, target, scorer.logit_scale)

    def top1_ece(s: float) -> float:
        p = scoring.softmax(s * sub)
        return expected_calibration_error(p.max(axis=1), p.argmax(axis=1) == target)

    entry = {"ece_before": round(top1_ece(scorer.logit_scale), 4), "ece": round(top1_ece(scale), 4),
             "n": int(one.sum()), "metric": "top-1 confidence ECE on texts with one teacher label in the set"}
    return {"logit_scale": round(scale, 5), "logit_bias": None}, entry
