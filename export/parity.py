"""Parity gates: prove each int8 artifact of a bundle against the fp32 model before it ships.

Gates (any failure fails the export):
- cosine of int8 to fp32 embeddings on the probe set: mean >= 0.99 and min >= 0.95, per format;
- zero-shot macro-F1 on GoEmotions dev against the teacher's labels within 0.01 of fp32, per format,
  with the bundle's own decision rule (emolite.scoring: thresholds, at least the top label);
- tokenizer parity: the bundle tokenizer gives the checkpoint's transformers tokenizer ids on the probe set.
The int8 side runs through the SDK itself (`emolite.load`), so the gates also cover file hashes, golden
vectors and the backends' bucketing and batching. Measuring (`format_report`, `tokenizer_gate`) is kept
apart from judging (`judge_format`, `cosine_pass`, `f1_pass`, `tokenizer_figures`, `overall_pass`): the
judges are pure functions of arrays and figures, and every flag is decided on the rounded figures the
report shows, so a report can be re-judged from its own numbers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolite import datasets, scoring

from .probes import probe_texts

log = logging.getLogger(__name__)

COSINE_MEAN_MIN = 0.99
COSINE_MIN_MIN = 0.95
F1_MAX_DROP = 0.01
GATE_SET = "goemotions"
COSINE_DIGITS, F1_DIGITS = 5, 4  # the precision of the report's figures, on which the flags are decided


@dataclass
class Scoring:
    """The bundle's decision rule for one label set: its labels, label rows, thresholds, scale and bias."""

    labels: list[str]
    embeddings: np.ndarray
    thresholds: np.ndarray
    multi_label: bool
    scale: float
    bias: float | np.ndarray  # one number, or one per label (a set's own calibration)

    def probabilities(self, vectors: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """(n, k) probabilities against this set's label rows, or against other rows of the same labels."""
        rows = self.embeddings if embeddings is None else embeddings
        return scoring.probabilities(vectors, rows, self.scale, self.bias, self.multi_label)

    def decisions(self, vectors: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """(n, k) bool: the labels the SDK would predict for these vectors."""
        return scoring.decide(self.probabilities(vectors, embeddings), self.thresholds, self.multi_label)


def scoring_from_bundle(bundle, name: str = GATE_SET) -> Scoring:
    """The decision rule of label set `name` exactly as the bundle's manifest and label file carry it."""
    label_set = bundle.label_set(name)
    manifest_scoring = bundle.manifest["scoring"]
    return Scoring(
        list(label_set.labels),
        label_set.embeddings,
        label_set.thresholds,
        label_set.multi_label,
        float(manifest_scoring["logit_scale"]) if label_set.logit_scale is None else label_set.logit_scale,
        float(manifest_scoring.get("logit_bias", 0.0)) if label_set.logit_bias is None else label_set.logit_bias,
    )


def multi_hot(labels: Sequence[Sequence[str]], names: Sequence[str]) -> np.ndarray:
    """(n, k) bool of the labels per text; labels outside `names` (e.g. a teacher's typo) are ignored."""
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(labels), len(names)), dtype=bool)
    for row, items in enumerate(labels):
        for item in items:
            if item.strip() in index:
                out[row, index[item.strip()]] = True
    return out


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """Mean per-label F1 over every label column; a label never predicted nor present counts 0."""
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, average="macro", zero_division=0))


def cosine_stats(reference: np.ndarray, got: np.ndarray) -> dict[str, float]:
    """Mean and min row cosine, rounded as reported."""
    cos = np.sum(reference * got, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(got, axis=1))
    return {"mean": round(float(cos.mean()), COSINE_DIGITS), "min": round(float(cos.min()), COSINE_DIGITS)}


# -- judges (pure) -------------------------------------------------------------------------------
def cosine_pass(mean: float, minimum: float) -> bool:
    return mean >= COSINE_MEAN_MIN and minimum >= COSINE_MIN_MIN


def f1_pass(delta: float) -> bool:
    """int8 macro-F1 within F1_MAX_DROP of fp32, either way (a gain this large is as suspect as a loss)."""
    return abs(delta) <= F1_MAX_DROP


def tokenizer_figures(
    ours: Sequence[Sequence[int]], theirs: Sequence[Sequence[int]], texts: Sequence[str]
) -> dict:
    """Token ids of the bundle tokenizer against the checkpoint tokenizer's, text by text."""
    if not (len(ours) == len(theirs) == len(texts)):
        raise ValueError(f"{len(ours)} and {len(theirs)} id lists for {len(texts)} texts")
    mismatches = [i for i, (a, b) in enumerate(zip(ours, theirs)) if list(a) != list(b)]
    return {
        "texts": len(texts),
        "mismatches": len(mismatches),
        "first_mismatch": texts[mismatches[0]] if mismatches else None,
        "pass": not mismatches,
    }


def overall_pass(report: dict[str, Any]) -> bool:
    """The export's verdict: the tokenizer gate and every gate of every format (and at least one format)."""
    formats = report["formats"].values()
    return bool(
        report["formats"]
        and report["tokenizer"]["pass"]
        and all(f["cosine"]["pass"] and f["zero_shot"]["pass"] for f in formats)
    )


@dataclass
class Reference:
    """fp32 side of the gates: probe and dev embeddings, the fp32 label embeddings, the teacher's labels."""

    probe: np.ndarray
    dev: np.ndarray
    gold: np.ndarray
    label_embeddings: np.ndarray


def judge_format(
    ref: Reference,
    probe_emb: np.ndarray,
    dev_emb: np.ndarray,
    rule: Scoring,
    int8_label_rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """The gate figures and flags of one format from its embeddings (no model needed).

    `rule.embeddings` are the label rows the bundle ships; `int8_label_rows`, when given, are the same
    labels embedded by the int8 model (reported, not gated: it shows why the bundle ships fp32 rows).
    """
    cosine = cosine_stats(ref.probe, probe_emb)
    f1_fp32 = round(macro_f1(rule.decisions(ref.dev, ref.label_embeddings), ref.gold), F1_DIGITS)
    f1_int8 = round(macro_f1(rule.decisions(dev_emb), ref.gold), F1_DIGITS)
    delta = round(f1_int8 - f1_fp32, F1_DIGITS)
    zero_shot = {"macro_f1_fp32": f1_fp32, "macro_f1_int8": f1_int8, "delta": delta}
    if int8_label_rows is not None:
        zero_shot["macro_f1_int8_with_int8_label_embeddings"] = round(
            macro_f1(rule.decisions(dev_emb, int8_label_rows), ref.gold), F1_DIGITS
        )
    top_fp32 = rule.probabilities(ref.probe, ref.label_embeddings).argmax(axis=1)
    top_int8 = rule.probabilities(probe_emb).argmax(axis=1)
    return {
        "cosine": {**cosine, "pass": cosine_pass(cosine["mean"], cosine["min"])},
        "zero_shot": {**zero_shot, "pass": f1_pass(delta)},
        "probe_top_label_agreement": round(float(np.mean(top_fp32 == top_int8)), 4),
    }


# -- measuring -----------------------------------------------------------------------------------
def tokenizer_gate(
    bundle_tokenizer_file: Path, checkpoint: str | Path, max_length: int, texts: Sequence[str]
) -> dict:
    """Bundle tokenizer (as the SDK loads it) against the checkpoint's transformers tokenizer."""
    from emolite.distill.model import load_tokenizer
    from emolite.text import TextEncoder

    ours, _ = TextEncoder(bundle_tokenizer_file, max_length).encode(list(texts))
    theirs = load_tokenizer(checkpoint)(list(texts), truncation=True, max_length=max_length)["input_ids"]
    return tokenizer_figures(ours, theirs, texts)


def format_report(
    clf,
    ref: Reference,
    probe: Sequence[str],
    dev: Sequence[str],
    rule: Scoring,
    prompts: dict[str, list[str]],
) -> dict:
    """Every gate figure of one format, through the SDK classifier `clf`.

    The probe embedding time is kept (perf_counter, one pass): the export prefers the faster format.
    """
    start = time.perf_counter()
    probe_emb = clf.embed(list(probe))
    probe_ms = 1000 * (time.perf_counter() - start) / len(probe)
    dev_emb = clf.embed(list(dev))
    int8_rows = scoring.label_rows(clf.embed, {name: prompts[name] for name in rule.labels})
    return {
        "backend": clf.backend_name,
        "runtime": getattr(clf.backend, "runtime", clf.backend_name),
        **judge_format(ref, probe_emb, dev_emb, rule, int8_rows),
        "probe_ms_per_text": round(probe_ms, 2),
    }


def run_gates(
    bundle_dir: Path,
    checkpoint: str | Path,
    ref: Reference,
    probe: Sequence[str],
    dev: Sequence[str],
    rule: Scoring,
    prompts: dict[str, list[str]],
) -> dict[str, Any]:
    """Load the finished bundle with each of its backends and gate it; returns the parity report.

    `rule` is the gate set's decision rule with the shipped (fp32) label rows and `prompts` its label
    prompts; both are passed in, not read from the bundle, so that a bundle without the goemotions set is
    gated all the same.
    """
    import emolite

    bundle = emolite.Bundle.open(bundle_dir)
    report: dict[str, Any] = {
        "probe_texts": len(probe),
        "dev_texts": len(dev),
        "gate_label_set": GATE_SET,
        "thresholds": {
            "cosine_mean": COSINE_MEAN_MIN,
            "cosine_min": COSINE_MIN_MIN,
            "macro_f1_max_delta": F1_MAX_DROP,
        },
        "formats": {},
    }
    for fmt in bundle.manifest["formats"]:
        clf = emolite.load(bundle_dir, backend=fmt, threads=1)
        report["formats"][fmt] = format_report(clf, ref, probe, dev, rule, prompts)
        log.info("%s: %s", fmt, report["formats"][fmt])
    report["tokenizer"] = tokenizer_gate(
        bundle.file(bundle.manifest["tokenizer"]["file"]), checkpoint, bundle.max_seq_length, probe
    )
    report["pass"] = overall_pass(report)
    return report


def gate_bundle(
    bundle_dir: Path,
    checkpoint: str | Path,
    embed_fp32: Callable[[Sequence[str]], np.ndarray],
    rule: Scoring,
    prompts: dict[str, list[str]],
    gate_texts: int | None,
) -> dict[str, Any]:
    """fp32 reference (probe set, GoEmotions dev with the teacher's labels), then every gate of the bundle."""
    probe = probe_texts()
    dev = datasets.teacher_dev(gate_texts)
    start = time.perf_counter()
    ref = Reference(
        embed_fp32(probe), embed_fp32(dev.texts), multi_hot(dev.labels, rule.labels), rule.embeddings
    )
    log.info(
        "fp32 reference of %d probe + %d dev texts in %.0f s",
        len(probe),
        len(dev.texts),
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    report = run_gates(bundle_dir, checkpoint, ref, probe, dev.texts, rule, prompts)
    log.info("gates run in %.0f s", time.perf_counter() - start)
    return report
