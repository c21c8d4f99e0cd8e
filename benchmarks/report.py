"""Report output: JSON file, Markdown tables, and the ratios between two reports (`--compare`)."""

from __future__ import annotations

import json
from pathlib import Path

LABELS = {
    "onnx": "emolite ONNX",
    "tflite": "emolite TFLite",
    "onnx-fp32": "ONNX fp32",
    "pytorch-fp32": "PyTorch fp32",
    "sentence-transformers": "sentence-transformers fp32",
}


def write_json(report: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _f(value, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}{suffix}"


def markdown(report: dict, targets: bool = False) -> str:
    """The summary tables: one row per subject and thread count, the installed models (speed and quality),
    then (for the project) targets, limit and machine. Users comparing latency see their numbers only;
    `targets` adds the project's own goals."""
    parts = [_machine_line(report)]
    if report["system"]["emulation"]["emulated"]:
        parts.append("> **Emulated run**: timings below are emulator cost, not device latency.")
    parts += [
        main_table(report),
        models_table(report),
        targets_table(report) if targets else "",
        roofline_lines(report),
        skipped_lines(report),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _machine_line(report: dict) -> str:
    s = report["system"]
    rt = s["runtimes"]
    versions = ", ".join(
        f"{k} {v}" for k, v in rt.items() if v and k in ("onnxruntime", "ai-edge-litert", "torch")
    )
    load = s.get("load_average")
    texts = report["texts"]
    return (
        f"Machine: {s['cpu_model']}, {s['cores']['usable']} cores, {s['os']}, Python {s['python']}, {versions}; "
        f"load average {load[0] if load else '?'} at start; emolite {s.get('emolite_install', '?')} install. "
        f"Texts: {texts['used']} from {texts['source']}. Timing: {report['timing_kind']}."
    )


def main_table(report: dict) -> str:
    rows = [r for r in report["subjects"] if r.get("available")]
    if not rows:
        return "No subject could run."
    lengths = [c["length"] for c in rows[0]["latency"]]
    ratios = {(x["subject"], x["threads"]): x for x in report["ratios"]}
    head = (
        ["backend", "precision", "threads", "model MB", "e2e p50 ms", "e2e p99 ms"]
        + [f"model p50 ms L={n}" for n in lengths]
        + ["texts/s (batch)", "peak RSS MB", "cold start ms", "e2e speed-up vs PyTorch"]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        proc = r.get("process") or {}
        best = max(r["throughput"], key=lambda t: t["texts_per_s"] or 0) if r["throughput"] else None
        ratio = ratios.get((r["name"], r["threads"]), {}).get("e2e_texts_p50_speedup")
        cells = (
            [
                LABELS.get(r["name"], r["name"]),
                r["precision"],
                str(r["threads"]),
                _f(r["model_bytes"] / 1e6, 1),
                _f(r["e2e_texts"]["p50"]),
                _f(r["e2e_texts"]["p99"]),
            ]
            + [_f(c["model"]["p50"]) for c in r["latency"]]
            + [
                f"{_f(best['texts_per_s'], 0)} ({best['batch']})" if best else "-",
                _f(proc.get("peak_rss_mb"), 0),
                _f((proc.get("cold_start") or {}).get("total_ms"), 0),
                "1 (reference)" if r["name"] == "pytorch-fp32" else _f(ratio, 1, "x"),
            ]
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def models_table(report: dict) -> str:
    """One row per installed model: its fastest int8 backend at 1 thread on the same texts, and its quality."""
    entries = report.get("models") or []
    if not entries:
        return ""
    q = report.get("quality") or {}
    head = [
        "model",
        "encoder",
        "int8 model MB",
        "e2e p50 ms, 1 thread (per int8 backend)",
        "fastest",
        "speed-up vs default",
        f"{q.get('metric', 'GoEmotions-28 macro-F1')}",
        "vs default",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes = []
    for e in entries:
        if not e.get("available"):
            notes.append(f"- model {e['name']} not measured: {e.get('skipped_reason')}")
            continue
        enc = e["encoder"]
        params = enc.get("parameters")
        size = ", ".join(
            f"{b} {_f(e['formats'][b]['bytes'] / 1e6, 1)}" for b in (r["backend"] for r in e["backends"])
        )
        per_backend = ", ".join(
            f"{r['backend']} {_f(r['e2e_texts']['p50'])}" if r.get("available") else f"{r['backend']} -"
            for r in e["backends"]
        )
        for r in e["backends"]:
            if not r.get("available"):
                notes.append(
                    f"- model {e['name']}, {r['backend']} backend not measured: {r.get('skipped_reason')}"
                )
        quality = e.get("quality") or {}
        f1 = _f(quality.get("macro_f1"), 3)
        scored = [r for r in e["backends"] if r.get("macro_f1") is not None]
        if quality.get("source") == "recorded":
            f1 += " (recorded)"
        elif quality.get("source") == "measured" and len(scored) > 1:
            f1 += " (" + ", ".join(f"{r['backend']} {_f(r['macro_f1'], 3)}" for r in scored) + ")"
        vs = e.get("vs_default") or {}
        cells = [
            f"**{e['name']}**" if e["default"] else e["name"],
            f"{enc['layers']} layers" + (f", {params / 1e6:.1f}M" if params else ""),
            size,
            per_backend,
            e.get("fastest_backend") or "-",
            "1 (reference)" if e["default"] else _f(vs.get("speedup"), 2, "x"),
            f1,
            "-" if e["default"] or vs.get("macro_f1_delta") is None else f"{vs['macro_f1_delta']:+.3f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", quality_line(report)]
    return "\n".join(lines + ([""] + notes if notes else []))


def quality_line(report: dict) -> str:
    q = report.get("quality") or {}
    if q.get("source") == "measured":
        capped = (
            f"the first {q['texts']} of {q['available']} texts (capped: --quick or --quality-texts)"
            if q.get("capped")
            else f"all {q['texts']} texts"
        )
        return (
            f"Quality: {q['metric']} of the SDK's own multi-label decisions (`clf.predict(texts, "
            f'labels="goemotions")` `.predicted`) against the human labels of {q["data"]}, {capped}; '
            f"{q['scorer']}. Speed: batch-1 e2e median at 1 thread on the same {report['texts']['used']} texts "
            "for every model and backend, timed interleaved; a model's figure is its fastest int8 backend's."
        )
    return f"Quality: the figures the bundles' manifests record (`evaluation`); {q.get('note') or 'not measured'}."


def targets_table(report: dict) -> str:
    if not report["targets"]:
        return ""
    lines = ["| target | subject | goal | measured | met |", "|---|---|---|---|---|"]
    for t in report["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        subject = f"{LABELS.get(t['subject'], t['subject'])}, {t['threads']} thread" if t["subject"] else "-"
        if t.get("reference"):
            subject += f" vs {LABELS.get(t['reference'], t['reference'])}"
        measured = _f(t["measured"], 3 if t["name"] == "smaller_f1_delta" else 2)
        if t.get("note"):
            measured = f"{measured} ({t['note']})" if t["measured"] is not None else t["note"]
        lines.append(f"| {t['description']} | {subject} | {t['target']} | {measured} | {met} |")
    return "\n".join(lines)


def roofline_lines(report: dict) -> str:
    lines = []
    for g in report["gemm"]:
        mix = ", ".join(f"M={m}: {v:.0f}" for m, v in g["layer_mix_gops"].items())
        lines.append(
            f"- int8 GEMM, {g['threads']} thread(s) ({g['kernel']}): peak {g['peak_gops']:.0f} GOPS; "
            f"encoder-layer shape mix {mix} GOPS"
        )
    for r in report["roofline"]:
        same = r.get("share_same_rows")
        same = "" if same is None else f"; {100 * same:.0f}% of the rate at M={r['length']}"
        lines.append(
            f"- {LABELS.get(r['subject'], r['subject'])}, {r['threads']} thread(s), L={r['length']}: "
            f"{r['model_gflop']:.3f} GFLOP per call, {r['achieved_gops']:.0f} GOPS = "
            f"{100 * r['share']:.0f}% of the peak int8 GEMM rate{same}"
        )
    return "\n".join(lines)


def skipped_lines(report: dict) -> str:
    seen, lines = set(), []
    for r in report["subjects"]:
        if not r.get("available") and r["name"] not in seen:
            seen.add(r["name"])
            lines.append(f"- {LABELS.get(r['name'], r['name'])} not measured: {r.get('skipped_reason')}")
    return "\n".join(lines)


# -- compare ---------------------------------------------------------------------------------------
def compare(a: dict, b: dict) -> list[dict]:
    """Per subject and thread count present in both: B / A for each headline figure (< 1 = B is faster)."""
    index = {(r["name"], r["threads"]): r for r in a["subjects"] if r.get("available")}
    out = []
    for rb in b["subjects"]:
        ra = index.get((rb["name"], rb["threads"]))
        if ra is None or not rb.get("available"):
            continue
        row = {
            "subject": rb["name"],
            "threads": rb["threads"],
            "e2e_texts_p50": _ratio(ra, rb, ("e2e_texts", "p50")),
        }
        for ca, cb in zip(ra["latency"], rb["latency"]):
            if ca["length"] == cb["length"]:
                row[f"model_p50_L{ca['length']}"] = _ratio(ca, cb, ("model", "p50"))
        row["peak_rss_mb"] = _ratio(ra, rb, ("process", "peak_rss_mb"))
        row["cold_start_ms"] = _ratio(ra, rb, ("process", "cold_start", "total_ms"))
        row["model_bytes"] = _ratio(ra, rb, ("model_bytes",))
        out.append(row)
    return out


def _get(d: dict, keys: tuple[str, ...]):
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _ratio(a: dict, b: dict, keys: tuple[str, ...]):
    va, vb = _get(a, keys), _get(b, keys)
    return round(vb / va, 3) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va else None


def compare_markdown(rows: list[dict], a_name: str, b_name: str) -> str:
    if not rows:
        return f"No subject and thread count in common between {a_name} and {b_name}."
    keys = [k for k in rows[0] if k not in ("subject", "threads")]
    lines = [
        f"Ratios B/A (B = {b_name}, A = {a_name}); below 1 means B is smaller or faster.",
        "",
        "| backend | threads | " + " | ".join(keys) + " |",
        "|" + "---|" * (len(keys) + 2),
    ]
    for r in rows:
        lines.append(
            f"| {LABELS.get(r['subject'], r['subject'])} | {r['threads']} | "
            + " | ".join(_f(r.get(k), 3) for k in keys)
            + " |"
        )
    return "\n".join(lines)
