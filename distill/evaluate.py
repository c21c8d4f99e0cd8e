"""`emolite evaluate`: zero-shot scores of one or more models on every evaluation set, as JSON and Markdown.

Models are scored with their own decision rule (calibrated thresholds for multi-label sets, argmax for
single-label sets). Human labels are used here only as the gold standard; each row says whether any human
label went into the model (training, calibration or selection). The GPT-4 anchor row scores the teacher's
own labels of the GoEmotions test texts (failed annotations count as empty predictions).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from emolite import datasets, scoring
from emolite.catalog import GOEMOTIONS_GROUPS

from .calibrate import per_label
from .metrics import macro_ap, macro_f1, micro_f1, pearson, single_label_scores
from .scoring import BundleScorer, LabelView, Scorer, TorchScorer

log = logging.getLogger(__name__)

# Columns of the summary table: (dataset, metric, header).
COLUMNS = (
    ("goemotions-28", "macro_f1", "GoEmotions-28 macro-F1"),
    ("goemotions-28", "micro_f1", "GoEmotions-28 micro-F1"),
    ("goemotions-ekman-7", "macro_f1", "Ekman-7 macro-F1"),
    ("goemotions-ekman-7-grouped", "macro_f1", "Ekman-7 macro-F1 (28 grouped)"),
    ("goemotions-sentiment-4", "macro_f1", "Sentiment-4 macro-F1"),
    ("semeval-ec-11", "macro_f1", "SemEval E-c 11 macro-F1"),
    ("semeval-ec-11", "micro_f1", "SemEval E-c 11 micro-F1"),
    ("carer-6", "macro_f1", "CARER-6 macro-F1"),
    ("carer-6", "accuracy", "CARER-6 acc."),
    ("ei-reg", "pearson_r", "EI-reg mean r"),
)


def open_scorer(spec: str) -> tuple[str, Scorer, dict[str, Any]]:
    """A model argument: NAME=PATH or PATH; a folder with manifest.json is a bundle (SDK, int8),
    anything else a torch checkpoint ('base' = all-MiniLM-L6-v2)."""
    name, sep, path = spec.partition("=")
    if not sep:
        name, path = Path(spec).name or spec, spec
    if (Path(path) / "manifest.json").is_file():
        scorer, kind = BundleScorer(path), "int8 bundle (SDK, onnxruntime)"
    else:
        scorer, kind = TorchScorer(path), "fp32 checkpoint (torch)"
    meta = scorer.clf.bundle.manifest if isinstance(scorer, BundleScorer) else scorer.encoder.meta
    training = meta.get("training") or {}
    human = bool((training.get("data") or {}).get("human_labels_used", False))
    return name, scorer, {"path": path, "kind": kind, "human_labels_used": human, "trained": bool(training)}


def aligned_view(scorer: Scorer, eval_set: datasets.EvalSet) -> LabelView:
    """The scorer's label set reordered to the evaluation set's label order."""
    view = scorer.label_set(eval_set.label_set)
    if eval_set.kind == "regression":
        return view
    order = [view.labels.index(label) for label in eval_set.labels]
    return replace(
        view,
        labels=eval_set.labels,
        embeddings=view.embeddings[order],
        thresholds=view.thresholds[order],
        bias=None if view.bias is None else view.bias[order],
    )


def score_set(scorer: Scorer, eval_set: datasets.EvalSet, emb: np.ndarray) -> dict[str, float]:
    view = aligned_view(scorer, eval_set)
    if eval_set.kind == "regression":
        column = view.labels.index(eval_set.labels[0])
        return {"pearson_r": round(pearson(emb @ view.embeddings[column], eval_set.gold), 4)}
    probs = view.probabilities(emb, scorer.logit_scale, scorer.logit_bias)
    if eval_set.kind == "single":
        scores = single_label_scores(probs.argmax(1), eval_set.gold, len(view.labels))
        one_hot = np.eye(len(view.labels), dtype=bool)[eval_set.gold]
        scores["macro_ap"] = macro_ap(probs, one_hot)  # threshold-free: the ranking alone
        return {k: round(v, 4) for k, v in scores.items()}
    pred = view.decide(probs)
    top1 = scoring.decide(probs, view.thresholds, multi_label=False)  # the top label alone
    # each label's best threshold on these very gold labels, as calibration fits them on teacher labels
    fitted = per_label(probs, eval_set.gold, fallback=0.5, min_support=1, shrink=0.0)
    return {
        "macro_f1": round(macro_f1(pred, eval_set.gold), 4),
        "micro_f1": round(micro_f1(pred, eval_set.gold), 4),
        "top1_macro_f1": round(macro_f1(top1, eval_set.gold), 4),
        "labels_per_text": round(float(pred.sum(1).mean()), 3),
        # threshold-free, and the bound of any thresholds: what a miss is made of (reported, never chosen on)
        "macro_ap": round(macro_ap(probs, eval_set.gold), 4),
        "test_fitted_macro_f1": round(macro_f1(scoring.decide(probs, fitted, True), eval_set.gold), 4),
    }


def evaluate_scorer(scorer: Scorer, sets: Sequence[datasets.EvalSet]) -> dict[str, dict[str, float]]:
    """Scores of one model on every set; texts shared by several sets are embedded once."""
    cache: dict[int, np.ndarray] = {}
    out = {}
    for eval_set in sets:
        key = id(eval_set.texts)
        if key not in cache:
            cache[key] = scorer.embed(eval_set.texts)
        out[eval_set.name] = score_set(scorer, eval_set, cache[key])
        log.info("%s: %s", eval_set.name, out[eval_set.name])
    out.update(grouped_scores(scorer, sets, cache))
    ei = [v["pearson_r"] for k, v in out.items() if k.startswith("ei-reg-")]
    if ei:
        out["ei-reg"] = {"pearson_r": round(float(np.mean(ei)), 4)}
    return out


def grouped_scores(
    scorer: Scorer, sets: Sequence[datasets.EvalSet], cache: dict[int, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Ekman/sentiment scored from the 28-label decisions mapped through the published groupings: the way
    the GPT-4 anchor is scored (the plain rows use the label set's own embeddings)."""
    by_name = {s.name: s for s in sets}
    fine = by_name.get("goemotions-28")
    if fine is None:
        return {}
    view = aligned_view(scorer, fine)
    pred = view.decide(view.probabilities(cache[id(fine.texts)], scorer.logit_scale, scorer.logit_bias))
    names = [[view.labels[j] for j in np.flatnonzero(row)] for row in pred]
    out = {}
    for eval_set in sets:
        groups = GOEMOTIONS_GROUPS.get(eval_set.label_set)
        if not eval_set.name.startswith("goemotions-") or groups is None:
            continue
        grouped = datasets.to_matrix(datasets.regroup(names, groups), eval_set.labels)
        out[f"{eval_set.name}-grouped"] = {
            "macro_f1": round(macro_f1(grouped, eval_set.gold), 4),
            "micro_f1": round(micro_f1(grouped, eval_set.gold), 4),
        }
    return out


def gpt4_anchor(root: Path, sets: Sequence[datasets.EvalSet]) -> dict[str, dict[str, float]]:
    """GPT-4's own test-set labels scored like a model (GoEmotions sets only)."""
    answers = datasets.gpt4_test_labels(root)
    groups = GOEMOTIONS_GROUPS
    out = {}
    for eval_set in sets:
        if not eval_set.name.startswith("goemotions-"):
            continue
        rows = [answers.get(i) or [] for i in eval_set.ids]
        if eval_set.label_set in groups:
            rows = datasets.regroup(rows, groups[eval_set.label_set])
        pred = datasets.to_matrix([[r for r in row if r in eval_set.labels] for row in rows], eval_set.labels)
        out[eval_set.name] = {
            "macro_f1": round(macro_f1(pred, eval_set.gold), 4),
            "micro_f1": round(micro_f1(pred, eval_set.gold), 4),
        }
        if eval_set.label_set in groups:  # the teacher's labels are 28-label answers, grouped
            out[f"{eval_set.name}-grouped"] = out[eval_set.name]
    return out


def adapted_scores(
    scorer: Scorer, sets: Sequence[datasets.EvalSet], root: Path
) -> dict[str, dict[str, float]]:
    """Scores after label-free prior adaptation (the SDK's `Classifier.adapt` rule, emolite.scoring): each
    set's label priors are estimated from unlabelled texts of its own train split, then its test is scored."""
    out = {}
    for eval_set in sets:
        domain = datasets.domain_texts(eval_set.name, root)
        if domain is None or eval_set.kind == "regression":
            continue
        view = aligned_view(scorer, eval_set)
        scale = scorer.logit_scale if view.scale is None else view.scale
        bias = scorer.logit_bias if view.bias is None else view.bias
        offsets = scoring.prior_offsets(
            view.probabilities(scorer.embed(domain), scorer.logit_scale, scorer.logit_bias)
        )
        adapted = replace(view, scale=scale, bias=(np.asarray(bias, np.float32) + offsets).astype(np.float32))
        out[eval_set.name] = score_set(_Fixed(scorer, adapted), eval_set, scorer.embed(eval_set.texts))
        log.info("%s adapted: %s", eval_set.name, out[eval_set.name])
    return out


class _Fixed:
    """A scorer whose label set for one evaluation is given (the adapted view)."""

    def __init__(self, scorer: Scorer, view: LabelView):
        self.logit_scale, self.logit_bias, self._view = scorer.logit_scale, scorer.logit_bias, view

    def label_set(self, name: str) -> LabelView:
        return self._view


def run(
    models: Sequence[str],
    data_dir: Path | None = None,
    limit: int = 0,
    anchor: bool = True,
    adapt: bool = False,
) -> dict[str, Any]:
    """Evaluate every model (see open_scorer) on every set; returns the JSON report. With `adapt`, each
    model also gets a row scored after label-free prior adaptation on its sets' unlabelled train texts."""
    root = data_dir or datasets.data_dir()
    sets = datasets.all_sets(root, limit)
    report: dict[str, Any] = {
        "data": {s.name: {"source": s.source, "rows": len(s.texts), "labels": list(s.labels)} for s in sets},
        "limit": limit,
        "models": {},
    }
    for spec in models:
        name, scorer, info = open_scorer(spec)
        log.info("evaluating %s (%s)", name, info["kind"])
        report["models"][name] = {**info, "scores": evaluate_scorer(scorer, sets)}
        if adapt:
            report["models"][f"{name} + adapt"] = {
                **info,
                "kind": info["kind"] + ", label priors adapted on unlabelled train-split texts",
                "scores": adapted_scores(scorer, sets, root),
            }
    if anchor:
        report["models"]["GPT-4 (teacher) labels"] = {
            "path": "goemotions_gpt4/goemotions_complete_test_annotations.csv",
            "kind": "teacher annotations",
            "human_labels_used": False,
            "scores": gpt4_anchor(root, sets),
        }
    return report


# What a decision miss is made of, per set: macro-F1 at the model's own decisions, the same with each label
# at its best threshold on the test labels themselves (an upper bound, fitted on what it scores: it explains
# a miss, it is never a result or a choice), and threshold-free macro-AP.
F1, FITTED, AP = (
    ("macro_f1", "F1"),
    ("test_fitted_macro_f1", "F1 at test-fitted thresholds"),
    ("macro_ap", "AP"),
)
BOUNDS = (
    ("goemotions-28", "GoEmotions-28", (F1, FITTED, AP)),
    ("goemotions-ekman-7", "Ekman-7", (F1, FITTED, AP)),
    ("goemotions-sentiment-4", "Sentiment-4", (F1, FITTED, AP)),
    ("semeval-ec-11", "SemEval E-c 11", (F1, FITTED, AP)),
    ("carer-6", "CARER-6", (F1, AP)),  # single-label: argmax, no thresholds
)


def markdown(report: dict[str, Any]) -> str:
    """The summary table (one row per model, one column per headline metric), then the bounds table."""
    bounds = [(d, m, f"{title} {label}") for d, title, metrics in BOUNDS for m, label in metrics]
    limit = report.get("limit")
    note = f"\nFirst {limit} rows of each set only.\n" if limit else "\n"
    return (
        "\n".join(_table(report, COLUMNS, details=True))
        + "\n\nMacro-F1 at the model's decisions, at each label's best threshold on the test labels themselves "
        "(an upper bound fitted on what it scores: it says whether a miss is the thresholds or the ranking; "
        "never a result or a choice), and threshold-free macro-AP:\n\n"
        + "\n".join(_table(report, bounds, skip_empty=True))
        + "\n"
        + note
    )


def _table(report: dict[str, Any], columns: Sequence[tuple], details: bool = False, skip_empty: bool = False):
    """Markdown lines, one row per model; `columns` as COLUMNS. `details` adds the kind and the human-label
    flag; `skip_empty` drops models without any of the columns' values (the teacher's labels have no AP)."""
    head = ["model", *(["kind"] if details else []), *(c[2] for c in columns)]
    head += ["human labels in model"] if details else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, entry in report["models"].items():
        values = [entry["scores"].get(dataset, {}).get(metric) for dataset, metric, _ in columns]
        if skip_empty and all(v is None for v in values):
            continue
        cells = [
            name,
            *([entry["kind"]] if details else []),
            *("" if v is None else f"{v:.3f}" for v in values),
        ]
        cells += ["yes" if entry.get("human_labels_used") else "no"] if details else []
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """OUT.json and OUT.md (OUT may end in .json or .md or have no suffix)."""
    out = Path(out)
    stem = out.with_suffix("") if out.suffix in (".json", ".md") else out
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path


def record(checkpoint: Path, report: dict[str, Any]) -> None:
    """Store the evaluation summary in a checkpoint's emolite.json so that export puts it in the manifest."""
    from .model import CHECKPOINT_META

    path = Path(checkpoint) / CHECKPOINT_META
    meta = json.loads(path.read_text())
    meta["evaluation"] = {
        "note": "zero-shot on test splits; human labels used only as gold standard",
        "data": {k: v["source"] for k, v in report["data"].items()},
        "models": {name: {"kind": e["kind"], "scores": e["scores"]} for name, e in report["models"].items()},
    }
    path.write_text(json.dumps(meta, indent=2, sort_keys=True))
