"""One benchmark run: every subject x thread count, in-process timings, fresh-process cold start and memory,
the int8 GEMM limit, ratios to PyTorch fp32, the installed models' speed and quality, and the project
targets, assembled into one report dict."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import child, models, roofline, system, texts, timing
from .subjects import ALL_SUBJECTS, Subject, SubjectUnavailable, make_subject

log = logging.getLogger(__name__)

SCHEMA_ID = "emolite-bench/2"
REFERENCE = "pytorch-fp32"  # of the ratio rows
TARGET_REFERENCE = "sentence-transformers"  # of the speed-up target (PyTorch fp32 when it cannot run)
TARGET_PREDICTIONS = 500  # the peak RSS target's workload: import, load, 500 predictions


@dataclass(frozen=True)
class BenchConfig:
    """Everything that decides what a run measures; recorded in the report."""

    bundle: str | None = None
    subjects: tuple[str, ...] = ALL_SUBJECTS
    threads: tuple[int, ...] = (1, 2)
    lengths: tuple[int, ...] = (16, 32, 64, 128)
    batches: tuple[int, ...] = (1, 8, 32)
    texts_file: str | None = None
    checkpoint: str = "base"
    label_set: str | None = None
    warmup: int = 20
    runs: int = 300
    cell_budget_s: float = 2.0
    e2e_texts: int = 1000
    throughput_texts: int = 256
    cold_runs: int = 3
    memory_texts: int = 499  # single predictions after the first: 500 in all (the peak RSS target's workload)
    gemm_min_time_s: float = 0.2
    processes: bool = True
    models: tuple[str, ...] | None = None  # installed models to compare (names or paths); None: all, (): none
    quality_texts: int = 0  # GoEmotions test texts scored per model and backend; 0: the whole split
    quick: bool = False


def quick(config: BenchConfig) -> BenchConfig:
    """The under-a-minute profile: one thread count, two lengths, fewer and shorter runs."""
    return replace(
        config,
        threads=config.threads[:1],
        lengths=(16, 64),
        batches=(1, 8),
        warmup=5,
        runs=60,
        cell_budget_s=0.4,
        e2e_texts=200,
        throughput_texts=64,
        cold_runs=1,
        memory_texts=30,
        gemm_min_time_s=0.05,
        quality_texts=500,
        quick=True,
    )


def run(config: BenchConfig) -> dict:
    """Measure everything `config` asks for and return the report (see benchmarks/schema.json)."""
    all_texts, source = texts.load_texts(config.texts_file)
    e2e_texts = texts.subsample(all_texts, config.e2e_texts)
    report = _header(config, source, all_texts, e2e_texts)
    rows = []
    for name in config.subjects:
        for threads in config.threads:
            log.info("measuring %s, %d thread(s)", name, threads)
            rows.append(measure_subject(name, threads, config, e2e_texts))
            gc.collect()
    report["subjects"] = rows
    rows_m = tuple(sorted(set(config.lengths) | {roofline.PEAK_ROWS}))
    report["gemm"] = [roofline.gemm_benchmark(t, rows_m, config.gemm_min_time_s) for t in config.threads]
    report["roofline"] = roofline_rows(report)
    report["ratios"] = ratio_rows(rows)
    report["models"], report["quality"] = models.measure_models(
        config.models, e2e_texts, config.warmup, config.quality_texts, config.label_set
    )
    report["targets"] = evaluate_targets(report)
    report["system"]["load_average_end"] = system.load_average()
    return report


def _header(config: BenchConfig, source: str, all_texts: list[str], e2e_texts: list[str]) -> dict:
    meta = system.collect()
    emulated = meta["emulation"]["emulated"]
    return {
        "schema": SCHEMA_ID,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "config": json.loads(json.dumps(asdict(config))),
        "system": meta,
        "timing_kind": "emulated: instruction-set emulator cost, NOT device latency"
        if emulated
        else "device",
        "bundle": bundle_info(config.bundle),
        "texts": {"source": source, "available": len(all_texts), "used": len(e2e_texts)},
    }


def bundle_info(path: str | None) -> dict:
    """Name, encoder and model files of the bundle with their sizes on disk."""
    from emolite.bundle import Bundle

    bundle = Bundle.open(path, verify=False)
    m = bundle.manifest
    formats = {}
    for name, fmt in m["formats"].items():
        file = bundle.file(fmt["file"])
        formats[name] = {"file": fmt["file"], "precision": fmt.get("precision"), "bytes": file.stat().st_size}
    return {
        "path": str(bundle.root),
        "name": m.get("name"),
        "encoder": m["encoder"],
        "formats": formats,
        "total_bytes": sum((bundle.root / rel).stat().st_size for rel in m["files"]),
    }


# -- one subject ---------------------------------------------------------------------------------
def measure_subject(name: str, threads: int, config: BenchConfig, e2e_texts: list[str]) -> dict:
    """In-process timings of one subject, then its fresh-process cold start and memory."""
    row: dict = {"name": name, "threads": threads}
    try:
        subject = make_subject(name, config.bundle, threads, config.checkpoint)
    except SubjectUnavailable as exc:
        log.warning("skipping %s: %s", name, exc)
        return {**row, "available": False, "skipped_reason": str(exc)}
    row.update(describe(subject))
    row["latency"] = latency_by_length(subject, config)
    predict = _predictor(subject, config.label_set)
    row["e2e_texts"] = timing.time_each(predict, e2e_texts, config.warmup)  # every subject: the same texts
    row["e2e_texts"]["tokens"] = token_stats(subject, e2e_texts)
    row["throughput"] = throughput_by_batch(subject, config, e2e_texts)
    del subject
    gc.collect()
    row["process"] = measure_process(name, threads, config, e2e_texts) if config.processes else None
    return row


def describe(subject: Subject) -> dict:
    return {
        "available": True,
        "runtime": subject.runtime,
        "precision": subject.precision,
        "golden_cosine": None if subject.golden_cosine is None else round(subject.golden_cosine, 6),
        "model_files": subject.files,
        "model_bytes": sum(subject.files.values()),
        "info": subject.info,
    }


def _predictor(subject: Subject, label_set: str | None):
    clf = subject.classifier
    return lambda text: clf.predict(text, labels=label_set)


def latency_by_length(subject: Subject, config: BenchConfig) -> list[dict]:
    """Batch-1 latency per length bucket: model only (ids already made) and end to end (text in, scores out)."""
    clf = subject.classifier
    words = texts.vocabulary(texts.read_lines(texts.SAMPLE_TEXTS))
    predict = _predictor(subject, config.label_set)
    out = []
    for length in config.lengths:
        text = texts.text_of_length(clf.encoder, words, length)
        ids = np.asarray([clf.encoder.encode([text])[0][0]], dtype=np.int64)
        mask = np.ones_like(ids)
        model_call = functools.partial(subject.run, ids, mask)
        e2e_call = functools.partial(predict, text)
        model = timing.time_repeated(model_call, config.warmup, config.runs, config.cell_budget_s)
        e2e = timing.time_repeated(e2e_call, config.warmup, config.runs, config.cell_budget_s)
        out.append({"length": int(ids.shape[1]), "model": model, "e2e": e2e})
    return out


def token_stats(subject: Subject, items: list[str]) -> dict:
    ids, _ = subject.classifier.encoder.encode(items)
    lengths = np.array([len(x) for x in ids])
    return {
        "p50": float(np.median(lengths)),
        "p90": float(np.percentile(lengths, 90)),
        "max": int(lengths.max()),
        "mean": round(float(lengths.mean()), 2),
    }


def throughput_by_batch(subject: Subject, config: BenchConfig, items: list[str]) -> list[dict]:
    """Texts per second when scoring lists of `batch` texts with the runtime batch size set to `batch`."""
    clf = subject.classifier
    default = clf.batch_size
    pool = items[: config.throughput_texts]
    out = []
    try:
        for batch in config.batches:
            clf.batch_size = batch
            out.append(
                timing.throughput(
                    lambda b: clf.predict(b, labels=config.label_set),
                    pool,
                    batch,
                    budget_s=config.cell_budget_s * 2,
                )
            )
    finally:
        clf.batch_size = default
    return out


def measure_process(name: str, threads: int, config: BenchConfig, items: list[str]) -> dict:
    """Median cold start over `cold_runs` fresh processes; peak RSS is the largest any of them reached."""
    runs = []
    for _ in range(config.cold_runs):
        try:
            runs.append(
                child.run_child(
                    name, config.bundle, threads, items[: config.memory_texts + 1], config.checkpoint
                )
            )
        except RuntimeError as exc:
            log.warning("fresh-process run of %s failed: %s", name, exc)
            return {"error": str(exc)}
    median = {
        k: round(float(np.median([r[k] for r in runs])), 2)
        for k in (
            "import_ms",
            "load_ms",
            "first_prediction_ms",
            "total_ms",
            "interpreter_start_ms",
            "process_wall_ms",
        )
    }
    return {
        "runs": len(runs),
        "cold_start": median,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_rss_after_first_mb": max(r["peak_rss_after_first_mb"] for r in runs),
        "peak_rss_predictions_mb": max(r["peak_rss_predictions_mb"] for r in runs),
        "workload_texts": runs[0]["texts"],
        "modules": runs[0]["modules"],
    }


# -- derived figures -----------------------------------------------------------------------------
def roofline_rows(report: dict) -> list[dict]:
    """Share of this machine's achievable int8 GEMM throughput (same threads) each int8 subject reaches.

    `share` is against the best GEMM rate measured (any shape, up to 512 rows); `share_same_rows` against
    the encoder-layer shape mix at M = the sequence length, which small-M kernels of another runtime can beat.
    """
    vocab = roofline.vocab_size(report["bundle"]["path"])
    shape = roofline.encoder_shape(_manifest(report["bundle"]["path"]), vocab)
    gemm = {g["threads"]: g for g in report["gemm"]}
    rows = []
    for s in report["subjects"]:
        if not s.get("available") or "int8" not in s["precision"] or s["threads"] not in gemm:
            continue
        g = gemm[s["threads"]]
        for cell in s["latency"]:
            length, p50 = cell["length"], cell["model"]["p50"]
            flops = roofline.model_flops(shape, length)
            achieved = flops / (p50 / 1e3) / 1e9
            same_rows = g["layer_mix_gops"].get(str(length))
            rows.append(
                {
                    "subject": s["name"],
                    "threads": s["threads"],
                    "length": length,
                    "model_gflop": round(flops / 1e9, 4),
                    "achieved_gops": round(achieved, 2),
                    "gemm_gops": g["peak_gops"],
                    "share": round(achieved / g["peak_gops"], 3),
                    "gemm_same_rows_gops": same_rows,
                    "share_same_rows": round(achieved / same_rows, 3) if same_rows else None,
                    "shape": shape,
                }
            )
    return rows


def _manifest(path: str) -> dict:
    from emolite.bundle import read_manifest

    return read_manifest(Path(path))


def ratio_rows(rows: list[dict]) -> list[dict]:
    """Each available subject against PyTorch fp32 at the same thread count (speed-ups > 1 = faster)."""
    refs = {r["threads"]: r for r in rows if r["name"] == REFERENCE and r.get("available")}
    out = []
    for r in rows:
        ref = refs.get(r["threads"])
        if not r.get("available") or ref is None or r is ref:
            continue
        out.append(
            {
                "subject": r["name"],
                "threads": r["threads"],
                "reference": REFERENCE,
                "e2e_texts_p50_speedup": _div(ref["e2e_texts"]["p50"], r["e2e_texts"]["p50"]),
                "model_p50_speedup": {
                    str(a["length"]): _div(b["model"]["p50"], a["model"]["p50"])
                    for a, b in zip(r["latency"], ref["latency"])
                },
                "size_ratio": _div(r["model_bytes"], ref["model_bytes"]),
                "peak_rss_ratio": _div(_proc(r, "peak_rss_mb"), _proc(ref, "peak_rss_mb")),
                "cold_start_speedup": _div(_cold(ref), _cold(r)),
            }
        )
    return out


def _proc(row: dict, key: str):
    return (row.get("process") or {}).get(key)


def _cold(row: dict):
    return ((row.get("process") or {}).get("cold_start") or {}).get("total_ms")


def _div(a, b):
    return round(a / b, 3) if a is not None and b else None


TARGETS = (
    ("e2e_p50_ms", "end-to-end batch-1 median on the text set, 1 thread, fastest int8 backend", 1.5, "<="),
    ("speedup_vs_fp32", "same, speed-up over sentence-transformers fp32 on the same texts", 6.0, ">="),
    (
        "peak_rss_mb",
        "peak RSS in a fresh process: import, load, 500 predictions (each int8 backend)",
        70.0,
        "<=",
    ),
    ("cold_start_ms", "import + load + first prediction in a fresh process", 150.0, "<="),
    (
        "smaller_speedup",
        "smaller package: e2e median speed-up over the default model (same rule, same texts)",
        1.8,
        ">=",
    ),
    ("smaller_f1_delta", "smaller package: GoEmotions-28 macro-F1 minus the default's", -0.02, ">="),
)


def evaluate_targets(report: dict) -> list[dict]:
    """The project targets: latency, speed-up and cold start of the fastest 1-thread int8 subject, memory of
    every 1-thread int8 subject, and the smaller package against the default model. `met` is None when a
    figure is missing and under emulation; `note` says why a figure is missing or what it was taken against."""
    emulated = report["system"]["emulation"]["emulated"]
    out: list[dict] = []

    def add(key: str, subject: str | None, value, note: str | None = None, **extra) -> dict:
        _, what, target, op = next(t for t in TARGETS if t[0] == key)
        met = None if value is None or emulated else (value <= target if op == "<=" else value >= target)
        row = {
            "name": key,
            "description": what,
            "subject": subject,
            "threads": 1,
            "target": f"{op} {target:g}",
            "measured": value,
            "met": met,
            "note": note,
            **extra,
        }
        out.append(row)
        return row

    _latency_targets(report, add)
    _smaller_targets(report, add)
    return out


def _latency_targets(report: dict, add) -> None:
    rows = [
        r for r in report["subjects"] if r.get("available") and r["threads"] == 1 and "int8" in r["precision"]
    ]
    if not rows:
        return
    no_process = "fresh-process runs skipped (--no-processes)"
    best = min(rows, key=lambda r: r["e2e_texts"]["p50"])
    add("e2e_p50_ms", best["name"], best["e2e_texts"]["p50"])
    ref = _reference_row(report["subjects"])
    if ref is None:
        note = "no fp32 reference measured at 1 thread (sentence-transformers or pytorch-fp32)"
    elif ref["name"] != TARGET_REFERENCE:
        note = f"{TARGET_REFERENCE} not measured: against {ref['name']}"
    else:
        note = None
    speedup = _div(ref["e2e_texts"]["p50"], best["e2e_texts"]["p50"]) if ref else None
    add("speedup_vs_fp32", best["name"], speedup, note, reference=ref["name"] if ref else None)
    for r in rows:
        peak = _proc(r, "peak_rss_predictions_mb")
        peak = _proc(r, "peak_rss_mb") if peak is None else peak
        workload = _proc(r, "workload_texts")
        note = no_process if r.get("process") is None else None
        if workload is not None and workload != TARGET_PREDICTIONS:
            note = f"workload {workload} predictions, not {TARGET_PREDICTIONS}"
        add("peak_rss_mb", r["name"], peak, note, workload_predictions=workload)
    add("cold_start_ms", best["name"], _cold(best), no_process if best.get("process") is None else None)


def _reference_row(subjects: list[dict]) -> dict | None:
    """The 1-thread fp32 reference of the speed-up target: sentence-transformers, else PyTorch fp32."""
    ok = {r["name"]: r for r in subjects if r.get("available") and r["threads"] == 1}
    return ok.get(TARGET_REFERENCE) or ok.get(REFERENCE)


def _smaller_targets(report: dict, add) -> None:
    """The fastest installed non-default model against the default model; "not installed" without one."""
    entries = report.get("models") or []
    small = models.smaller_package(entries)
    if small is None:
        others = [e for e in entries if not e["default"]]
        if report["config"].get("models") == []:
            note = "not measured (--models none)"
        elif not any(e["default"] and e.get("e2e_p50_ms") for e in entries):
            note = "the default model was not measured"
        elif not others:
            note = "not installed"
        else:
            note = "not measured: " + "; ".join(f"{e['name']}: {e.get('skipped_reason')}" for e in others)
        add("smaller_speedup", None, None, note)
        add("smaller_f1_delta", None, None, note)
        return
    vs = small["vs_default"]
    default = next(e for e in entries if e["default"] and e.get("e2e_p50_ms"))
    subject = f"{small['name']} ({small['fastest_backend']})"
    reference = f"{default['name']} ({default['fastest_backend']})"
    add("smaller_speedup", subject, vs["speedup"], reference=reference)
    source = vs["quality_source"]
    note = None if source == "measured" else f"quality {source or 'not measured'}"
    add("smaller_f1_delta", subject, vs["macro_f1_delta"], note, reference=reference)
