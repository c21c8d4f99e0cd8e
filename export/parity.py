"""Parity gates: prove each int8 artifact of a bundle against the fp32 model before it ships.

Gates (any failure fails the export):
- cosine of int8 to fp32 embeddings on the probe set: mean >= 0.99 and min >= 0.95, per format;
- zero-shot macro-F1 on GoEmotions dev against the teacher's labels within 0.01 of fp32, per format,
  with the bundle's own decision rule (thresholds, at least the top label);
- tokenizer parity: the bundle tokenizer gives the checkpoint's transformers tokenizer ids on the probe set.
The int8 side runs through the SDK itself (`emolite.load`), so the gates also cover file hashes, golden
vectors and the backends' bucketing and batching.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emolite.classifier import sigmoid, softmax

from . import data

log = logging.getLogger(__name__)

COSINE_MEAN_MIN = 0.99
COSINE_MIN_MIN = 0.95
F1_MAX_DROP = 0.01
GATE_SET = "goemotions"


@dataclass
class Scoring:
    """The bundle's decision rule for one label set."""

    labels: list[str]
    embeddings: np.ndarray
    thresholds: np.ndarray
    multi_label: bool
    scale: float
    bias: float

    def probabilities(self, vectors: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        logits = self.scale * (vectors @ (self.embeddings if embeddings is None else embeddings).T)
        return sigmoid(logits + self.bias) if self.multi_label else softmax(logits)

    def decide(self, vectors: np.ndarray, embeddings: np.ndarray | None = None) -> np.ndarray:
        """(n, k) bool: the top label and every label at or over its threshold (single-label: the top one)."""
        probs = self.probabilities(vectors, embeddings)
        top = np.zeros_like(probs, dtype=bool)
        top[np.arange(len(probs)), probs.argmax(axis=1)] = True
        return top | (probs >= self.thresholds) if self.multi_label else top


def scoring_from_bundle(bundle, name: str = GATE_SET) -> Scoring:
    label_set = bundle.label_set(name)
    scoring = bundle.manifest["scoring"]
    return Scoring(
        list(label_set.labels),
        label_set.embeddings,
        label_set.thresholds,
        label_set.multi_label,
        float(scoring["logit_scale"]),
        float(scoring.get("logit_bias", 0.0)),
    )


def multi_hot(labels: Sequence[Sequence[str]], names: Sequence[str]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    out = np.zeros((len(labels), len(names)), dtype=bool)
    for row, items in enumerate(labels):
        for item in items:
            if item.strip() in index:
                out[row, index[item.strip()]] = True
    return out


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """Mean per-label F1 (a label never predicted nor present counts 0, as sklearn's zero_division=0)."""
    tp = (pred & gold).sum(axis=0)
    denom = pred.sum(axis=0) + gold.sum(axis=0)
    return float(np.mean(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)))


def cosine_stats(reference: np.ndarray, got: np.ndarray) -> dict[str, float]:
    cos = np.sum(reference * got, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(got, axis=1))
    return {"mean": round(float(cos.mean()), 5), "min": round(float(cos.min()), 5)}


def tokenizer_gate(
    bundle_tokenizer_file: Path, checkpoint: str | Path, max_length: int, texts: Sequence[str]
) -> dict:
    """Bundle tokenizer (as the SDK loads it) against the checkpoint's transformers tokenizer."""
    from emolite.distill.model import load_tokenizer
    from emolite.text import TextEncoder

    ours, _ = TextEncoder(bundle_tokenizer_file, max_length).encode(list(texts))
    theirs = load_tokenizer(checkpoint)(list(texts), truncation=True, max_length=max_length)["input_ids"]
    mismatches = [i for i, (a, b) in enumerate(zip(ours, theirs)) if list(a) != list(b)]
    return {
        "texts": len(texts),
        "mismatches": len(mismatches),
        "first_mismatch": texts[mismatches[0]] if mismatches else None,
        "pass": not mismatches,
    }


@dataclass
class Reference:
    """fp32 side of the gates: probe and dev embeddings, the fp32 label embeddings, the teacher's labels."""

    probe: np.ndarray
    dev: np.ndarray
    gold: np.ndarray
    label_embeddings: np.ndarray
    label_prompts: dict[str, list[str]] | None = None  # to re-embed the label rows with an int8 model


def format_report(clf, ref: Reference, probe: Sequence[str], dev: Sequence[str], scoring: Scoring) -> dict:
    """Every gate figure of one format, through the SDK classifier `clf`."""
    start = time.perf_counter()
    probe_emb = clf.embed(list(probe))
    probe_ms = 1000 * (time.perf_counter() - start) / len(probe)
    dev_emb = clf.embed(list(dev))
    f1_fp32 = macro_f1(scoring.decide(ref.dev, ref.label_embeddings), ref.gold)
    f1_int8 = macro_f1(scoring.decide(dev_emb), ref.gold)
    prompts = ref.label_prompts or clf.bundle.label_set(GATE_SET).prompts
    int8_label_rows = np.stack([_mean_row(clf.embed(prompts[name])) for name in scoring.labels])
    cosine = cosine_stats(ref.probe, probe_emb)
    top_fp32 = scoring.probabilities(ref.probe, ref.label_embeddings).argmax(axis=1)
    top_int8 = scoring.probabilities(probe_emb).argmax(axis=1)
    return {
        "backend": clf.backend_name,
        "runtime": getattr(clf.backend, "runtime", clf.backend_name),
        "cosine": {**cosine, "pass": cosine["mean"] >= COSINE_MEAN_MIN and cosine["min"] >= COSINE_MIN_MIN},
        "zero_shot": {
            "macro_f1_fp32": round(f1_fp32, 4),
            "macro_f1_int8": round(f1_int8, 4),
            "delta": round(f1_int8 - f1_fp32, 4),
            "macro_f1_int8_with_int8_label_embeddings": round(
                macro_f1(scoring.decide(dev_emb, int8_label_rows), ref.gold), 4
            ),
            "pass": abs(f1_int8 - f1_fp32) <= F1_MAX_DROP,
        },
        "probe_top_label_agreement": round(float(np.mean(top_fp32 == top_int8)), 4),
        "probe_ms_per_text": round(probe_ms, 2),
    }


def _mean_row(vectors: np.ndarray) -> np.ndarray:
    mean = vectors.mean(axis=0)
    return mean / np.linalg.norm(mean)


def run_gates(
    bundle_dir: Path,
    checkpoint: str | Path,
    ref: Reference,
    probe: Sequence[str],
    dev: Sequence[str],
    scoring: Scoring,
) -> dict[str, Any]:
    """Load the finished bundle with each of its backends and gate it; returns the parity report.

    `scoring` is the gate set's decision rule with the shipped (fp32) label rows; it is passed in, not read
    from the bundle, so that a bundle without the goemotions set is gated all the same.
    """
    import emolite
    from emolite.bundle import read_manifest

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
    for fmt in read_manifest(Path(bundle_dir))["formats"]:
        clf = emolite.load(bundle_dir, backend=fmt, threads=1)
        report["formats"][fmt] = format_report(clf, ref, probe, dev, scoring)
        log.info("%s: %s", fmt, report["formats"][fmt])
    bundle = emolite.Bundle.open(bundle_dir)
    report["tokenizer"] = tokenizer_gate(
        bundle.file(bundle.manifest["tokenizer"]["file"]), checkpoint, bundle.max_seq_length, probe
    )
    report["pass"] = report["tokenizer"]["pass"] and all(
        f["cosine"]["pass"] and f["zero_shot"]["pass"] for f in report["formats"].values()
    )
    return report


def gate_bundle(
    bundle_dir: Path, checkpoint: str | Path, embed_fp32, scoring: Scoring, prompts, gate_texts: int | None
) -> dict[str, Any]:
    """fp32 reference (probe set, GoEmotions dev with the teacher's labels), then every gate of the bundle."""
    probe = data.probe_texts()
    dev = data.goemotions_teacher_dev(gate_texts)
    start = time.perf_counter()
    ref = Reference(
        embed_fp32(probe),
        embed_fp32(dev.texts),
        multi_hot(dev.labels, scoring.labels),
        scoring.embeddings,
        prompts,
    )
    log.info(
        "fp32 reference of %d probe + %d dev texts in %.0f s",
        len(probe),
        len(dev.texts),
        time.perf_counter() - start,
    )
    start = time.perf_counter()
    report = run_gates(bundle_dir, checkpoint, ref, probe, dev.texts, scoring)
    log.info("gates run in %.0f s", time.perf_counter() - start)
    return report
