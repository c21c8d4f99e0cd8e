"""The label-free selection protocol: every choice (method, epochs, mixing weight, prompts, calibration) is
made on these numbers, computed from held-out teacher labels only; test splits are only reported.

One number per axis for a model:
- unseen_emotions: leave-labels-out folds over the 27 emotions. Each fold's model was trained without the
  fold's labels (`exclude_labels`); the axis is the macro-AP of those labels on held-out teacher texts,
  averaged over folds. It asks whether training helps emotions the student never saw.
- unseen_wording: macro-AP on held-out texts when every GoEmotions label is named only by words and
  phrasings that never appear in training (configs/unseen_wording.toml, written before any test result).
- coarse: macro-AP of the `ekman` and `sentiment` sets against the teacher's labels grouped by the
  published GoEmotions groupings (mean of the two).
- in_domain: macro-AP of the 28 GoEmotions labels against the teacher's labels.
The base encoder scores on the same axes; a variant is kept only when it does not lose on the unseen axes.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from emolite import scoring
from emolite.catalog import GOEMOTIONS

from . import calibrate, data
from .metrics import macro_ap
from .scoring import LabelView

log = logging.getLogger(__name__)

WORDING_FILE = Path(__file__).with_name("configs") / "unseen_wording.toml"
COARSE_SETS = ("ekman", "sentiment")
FOLDS = 4


def fold_labels(fold: int, folds: int = FOLDS) -> list[str]:
    """The emotions left out of fold `fold` (neutral is never left out: it is not an emotion)."""
    emotions = [label for label in GOEMOTIONS if label != "neutral"]
    return [label for i, label in enumerate(emotions) if i % folds == fold]


def unseen_wording() -> dict[str, list[str]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(WORDING_FILE.read_text(encoding="utf-8"))


class Heldout:
    """Held-out teacher texts and their labels, embedded once per model."""

    def __init__(self, examples: Sequence[data.Example]):
        self.texts = [ex.text for ex in examples]
        self.keys = [ex.labels for ex in examples]

    def gold(self, view: LabelView) -> np.ndarray:
        return calibrate.teacher_matrix(self.keys, view)


def _ap(scorer, view: LabelView, emb: np.ndarray, gold: np.ndarray) -> float:
    probs = view.probabilities(emb, scorer.logit_scale, scorer.logit_bias)
    return round(macro_ap(probs, gold), 4)


def in_domain(scorer, emb: np.ndarray, held: Heldout) -> float:
    view = scorer.label_set("goemotions")
    return _ap(scorer, view, emb, held.gold(view))


def coarse(scorer, emb: np.ndarray, held: Heldout) -> float:
    return round(float(np.mean([_ap(scorer, scorer.label_set(s), emb, held.gold(scorer.label_set(s)))
                                for s in COARSE_SETS])), 4)


def wording(scorer, emb: np.ndarray, held: Heldout) -> float:
    phrasings = unseen_wording()
    rows = np.stack([scoring.label_row(scorer.embed(phrasings[label])) for label in GOEMOTIONS])
    view = scorer.label_set("goemotions")
    return _ap(scorer, replace(view, embeddings=rows), emb, held.gold(view))


def unseen_emotions(fold_scorers: Sequence, held: Heldout, folds: int = FOLDS) -> float:
    """Mean over folds of the left-out labels' macro-AP, each scored by the model that never saw them."""
    values = []
    for fold, scorer in enumerate(fold_scorers):
        view = scorer.label_set("goemotions")
        keep = [view.labels.index(label) for label in fold_labels(fold, folds)]
        sub = replace(view, labels=tuple(view.labels[i] for i in keep), embeddings=view.embeddings[keep],
                      thresholds=view.thresholds[keep])
        emb = scorer.embed(held.texts)
        gold = held.gold(view)[:, keep]
        values.append(_ap(scorer, sub, emb, gold))
    return round(float(np.mean(values)), 4)


def evaluate(
    scorer, held: Heldout, fold_scorers: Sequence | None = None, emb: np.ndarray | None = None
) -> dict[str, Any]:
    """Every axis for one model (unseen_emotions only when its fold models are given); `emb` are the
    held-out embeddings when already computed."""
    emb = scorer.embed(held.texts) if emb is None else emb
    out: dict[str, Any] = {
        "unseen_wording": wording(scorer, emb, held),
        "coarse": coarse(scorer, emb, held),
        "in_domain": in_domain(scorer, emb, held),
        "heldout_texts": len(held.texts),
    }
    if fold_scorers is not None:
        out["unseen_emotions"] = unseen_emotions(fold_scorers, held)
    return out


def fold_configs(cfg, folds: int = FOLDS, max_train_examples: int = 8000) -> list:
    """The configs of the fold models: `cfg` without each fold's labels, on a reduced budget (one epoch)."""
    return [
        replace(cfg, exclude_labels=fold_labels(f, folds), max_train_examples=max_train_examples, epochs=1,
                name=f"{cfg.name}-fold{f}")
        for f in range(folds)
    ]


def report(rows: dict[str, dict[str, Any]]) -> str:
    """A Markdown table, one row per model."""
    axes = ("unseen_emotions", "unseen_wording", "coarse", "in_domain")
    lines = ["| model | " + " | ".join(axes) + " |", "|---|" + "---|" * len(axes)]
    for name, values in rows.items():
        cells = ["" if values.get(a) is None else f"{values[a]:.4f}" for a in axes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write(rows: dict[str, dict[str, Any]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    out.with_suffix(".md").write_text(report(rows))


def scorer_variants(make: Callable[[str], Any], specs: Sequence[str]) -> dict[str, Any]:
    """NAME=SPEC pairs (or SPEC) -> scorers, through `make` (a checkpoint path, 'base', or 'avg:W:PATH')."""
    out = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        out[name if sep else spec] = make(path if sep else spec)
    return out
