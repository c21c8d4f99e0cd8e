"""The bundle's README.md: a short model card written from the manifest and the parity report."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def _format_rows(manifest: dict[str, Any], report: dict[str, Any], out: Path) -> list[str]:
    rows = [
        "| format | file | size | precision | probe cosine mean / min | macro-F1 int8 (fp32) | top-label agreement |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt, meta in manifest["formats"].items():
        r = report["formats"][fmt]
        z = r["zero_shot"]
        rows.append(
            f"| {fmt} | `{meta['file']}` | {_mb(out / meta['file'])} | {meta['precision']} | "
            f"{r['cosine']['mean']:.4f} / {r['cosine']['min']:.4f} | {z['macro_f1_int8']:.4f} ({z['macro_f1_fp32']:.4f}) | "
            f"{r['probe_top_label_agreement']:.1%} |"
        )
    return rows


def _calibration_rows(manifest: dict[str, Any]) -> list[str]:
    """Per set: its own scale, the held-out expected calibration error before and after, the lowest threshold."""
    rows = []
    for name, entry in manifest["label_sets"].items():
        cal = entry.get("calibration")
        if not cal:
            continue
        low = f"{min(entry['thresholds']):.2f}" if entry["multi_label"] else "-"
        rows.append(f"| `{name}` | {entry.get('logit_scale', '-')} | {cal.get('ece_before', float('nan')):.3f} | "
                    f"{cal.get('ece', float('nan')):.3f} | {low} | {cal.get('n', '')} |")
    if not rows:
        return ["Probabilities are not calibrated per set: thresholds were tuned on held-out teacher labels."]
    return [
        "Each set's probabilities were calibrated on held-out teacher (GPT-4) labels: its own scale and per-label",
        "biases (multi-label sets, Platt scaling) or softmax scale (single-label sets). Expected calibration error",
        "on those texts (every text-label pair; single-label sets: top-1 confidence):",
        "",
        "| set | scale | ECE before | ECE after | lowest threshold | texts |",
        "|---|---|---|---|---|---|",
        *rows,
    ]


def render(manifest: dict[str, Any], report: dict[str, Any], out: Path) -> str:
    enc = manifest["encoder"]
    training = manifest.get("training")
    origin = (
        "Not fine-tuned: the base sentence encoder used zero-shot (label embeddings from descriptions)."
        if not training
        else "Distilled from a teacher LLM's labels; the training record is `training` in manifest.json."
    )
    sets = ", ".join(f"`{n}` ({len(s['labels'])})" for n, s in manifest["label_sets"].items())
    lines = [
        f"# {manifest['name']}",
        "",
        "Zero-shot text emotion recognition on device: a sentence encoder whose embeddings are compared with",
        "precomputed label embeddings (see docs/bundle-format.md for the contract).",
        "",
        f"- Encoder: {enc['base_model']}, {enc['parameters'] / 1e6:.1f} M parameters, {enc['embedding_dim']}-d, "
        f"{enc['pooling']} pooling, L2-normalised; max {manifest['tokenizer']['max_seq_length']} word pieces.",
        f"- Origin: {origin}",
        f"- Label sets: {sets}; default `{manifest['default_label_set']}`.",
        f'- Backend preferred by `backend="auto"`: `{manifest["preferred_backend"]}` (faster on the export machine).',
        "",
        "## Formats and parity gates",
        "",
        *_format_rows(manifest, report, out),
        "",
        f"Gates: probe cosine mean >= {report['thresholds']['cosine_mean']} and min >= {report['thresholds']['cosine_min']} "
        f"({report['probe_texts']} probe texts); macro-F1 ({report['gate_label_set']} label set) on {report['dev_texts']} "
        "GoEmotions dev texts against the "
        f"teacher's (GPT-4) labels within {report['thresholds']['macro_f1_max_delta']} of fp32; tokenizer ids identical "
        f"on the probe set ({report['tokenizer']['mismatches']} mismatches). Overall: "
        f"**{'PASS' if report['pass'] else 'FAIL'}** (details in `parity.json`).",
        "",
        "## Calibration",
        "",
        *_calibration_rows(manifest),
        "",
        "## Intended use and limits",
        "",
        "- English text; other languages tokenise but were not evaluated. Texts beyond the maximum length are truncated.",
        "- Probabilities are calibrated against the teacher's labels of Reddit comments (table above), not against",
        "  human annotators nor other domains: `Classifier.adapt(texts)` corrects label priors for a new domain.",
        "- Macro-F1 above is agreement with a teacher model, not with human annotators.",
        "",
    ]
    return "\n".join(lines)
