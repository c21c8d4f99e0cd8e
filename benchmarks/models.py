"""Installed models side by side: speed and quality of every model package, in one run.

For each model (`emolite.registry.installed()`, or the names/paths of `--models`): the batch-1 end-to-end
median of each of its int8 SDK backends at 1 thread on the bench's texts (all models and backends timed
interleaved, so a change of machine load falls on all of them alike), the fastest of them (the rule of the
targets), and its quality: GoEmotions-28 macro-F1 of the SDK's own decisions (`clf.predict(texts,
labels="goemotions")`'s `.predicted`, multi-label) against the human labels of GoEmotions test, read through
`emolite.datasets` and scored with scikit-learn's `f1_score` (average="macro"). Without the shared data or
without scikit-learn the figure is the one the bundle's manifest records (`evaluation`), labelled "recorded".
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from pathlib import Path

import emolite
from emolite import datasets
from emolite.bundle import DEFAULT_BUNDLE, Bundle
from emolite.errors import EmoliteError

from . import roofline, timing
from .subjects import SDK_BACKENDS
from .system import package_version

log = logging.getLogger(__name__)

DEFAULT_MODEL = "default"
QUALITY_SET = "goemotions-28"  # the evaluation set's name in emolite.datasets and in manifests
QUALITY_LABELS = "goemotions"  # the bundle label set its decisions come from
METRIC = "GoEmotions-28 macro-F1"
DECISIONS = (
    f'clf.predict(texts, labels="{QUALITY_LABELS}").predicted: the top label and every label over its '
    "calibrated threshold (multi-label)"
)
ROUNDS = 10  # interleaving rounds of the latency measurement


@dataclass(frozen=True)
class ModelSpec:
    """A model to measure: its name, bundle folder and distribution; `error` says why it cannot be used."""

    name: str
    path: Path | None
    default: bool = False
    distribution: str | None = None
    version: str | None = None
    error: str | None = None
    origin: str = "registry"  # "registry" | "path" | "shipped"


def _registry():
    try:
        from emolite import registry
    except ImportError:  # an SDK without the model registry: only the shipped bundle is known
        return None
    return registry


def _is_default_path(path: Path | None) -> bool:
    try:
        return path is not None and Path(path).resolve() == DEFAULT_BUNDLE.resolve()
    except OSError:
        return False


def _spec(info) -> ModelSpec:
    path = getattr(info, "path", None)
    return ModelSpec(
        name=info.name,
        path=None if path is None else Path(path),
        default=info.name == DEFAULT_MODEL,
        distribution=getattr(info, "distribution", None) or getattr(info, "dist", None),
        version=getattr(info, "version", None),
        error=getattr(info, "error", None),
    )


def installed_specs() -> list[ModelSpec]:
    """Every installed model, the default first; the shipped bundle counts as "default" even when the
    registry does not list it (an SDK without the registry, or stale package metadata)."""
    registry = _registry()
    found = registry.installed() if registry is not None else {}
    specs = [_spec(info) for info in found.values()]
    if not any(s.default for s in specs):
        log.info(
            "no model named '%s' in the registry: using the shipped bundle %s", DEFAULT_MODEL, DEFAULT_BUNDLE
        )
        specs.append(
            ModelSpec(
                DEFAULT_MODEL, DEFAULT_BUNDLE, True, "emolite", package_version("emolite"), None, "shipped"
            )
        )
    return sorted(specs, key=lambda s: (not s.default, s.name))


def specs_from(models: tuple[str, ...] | None) -> list[ModelSpec]:
    """The models of `--models`: None = every installed model; else names (of installed models) or paths."""
    if models is None:
        return installed_specs()
    by_name = {s.name: s for s in installed_specs()}
    folded = {n.casefold(): s for n, s in by_name.items()}
    registry = _registry()
    out: list[ModelSpec] = []
    for item in models:
        spec = by_name.get(item) or folded.get(item.casefold())
        if spec is None:
            try:
                path = registry.resolve(item) if registry is not None else Path(item)
            except EmoliteError as exc:
                spec = ModelSpec(item, None, error=str(exc), origin="path")
            else:
                spec = ModelSpec(item, Path(path), _is_default_path(path), origin="path")
                if not Path(path).exists():
                    spec = ModelSpec(item, Path(path), error=f"no bundle at {path}", origin="path")
        if spec.name not in {s.name for s in out}:
            out.append(spec)
    return out


# -- describing a model ------------------------------------------------------------------------------
def recorded_quality(manifest: dict) -> float | None:
    """The GoEmotions-28 macro-F1 the bundle's manifest records for the int8 bundle itself (`evaluation`)."""
    models = (manifest.get("evaluation") or {}).get("models") or {}
    order = ["int8"] + [k for k, v in models.items() if str(v.get("kind", "")).startswith("int8 bundle")]
    for key in order:
        if "adapt" in key:
            continue
        value = ((models.get(key) or {}).get("scores") or {}).get(QUALITY_SET, {}).get("macro_f1")
        if isinstance(value, (int, float)):
            return float(value)
    return None


def describe_model(spec: ModelSpec) -> dict:
    """What the model is: bundle name, encoder shape, int8 formats and sizes, the recorded quality."""
    entry: dict = {
        "name": spec.name,
        "path": None if spec.path is None else str(spec.path),
        "default": spec.default,
        "origin": spec.origin,
        "distribution": spec.distribution,
        "version": spec.version,
    }
    if spec.error is not None or spec.path is None:
        return {**entry, "available": False, "skipped_reason": spec.error or "no bundle path"}
    try:
        bundle = Bundle.open(spec.path, verify=False)
    except EmoliteError as exc:
        return {**entry, "available": False, "skipped_reason": str(exc)}
    m = bundle.manifest
    shape = roofline.encoder_shape(m, roofline.vocab_size(bundle.root))
    formats = {}
    for name, fmt in m["formats"].items():
        file = bundle.file(fmt["file"])
        formats[name] = {"precision": fmt.get("precision"), "bytes": file.stat().st_size}
    return {
        **entry,
        "available": True,
        "bundle_name": m.get("name"),
        "encoder": {
            "layers": shape["layers"],
            "layers_from": shape["method"],
            "hidden": shape["hidden"],
            "parameters": m["encoder"].get("parameters"),
        },
        "formats": formats,
        "total_bytes": sum((bundle.root / rel).stat().st_size for rel in m["files"]),
        "recorded_macro_f1": recorded_quality(m),
    }


def int8_backends(entry: dict) -> list[str]:
    return [b for b in SDK_BACKENDS if "int8" in str(entry["formats"].get(b, {}).get("precision") or "")]


# -- quality -----------------------------------------------------------------------------------------
def _quality_info() -> dict:
    return {
        "metric": METRIC,
        "set": QUALITY_SET,
        "decisions": DECISIONS,
        "data": None,
        "texts": None,
        "available": None,
        "capped": False,
        "scorer": None,
        "source": "recorded",
        "note": None,
    }


def quality_data(limit: int = 0) -> tuple[datasets.EvalSet | None, dict]:
    """GoEmotions test (28 labels, human gold) through emolite.datasets, capped at `limit` texts (0: all),
    and the report's description of it; (None, why) when the data or scikit-learn is missing."""
    info = _quality_info()
    try:
        import sklearn  # noqa: F401
    except ImportError:
        info["note"] = (
            "scikit-learn is not installed (pip install scikit-learn): recorded figures of the manifests"
        )
        return None, info
    root = datasets.data_dir()
    try:
        eval_set = next(s for s in datasets.goemotions(root) if s.name == QUALITY_SET)
    except (datasets.DatasetMissingError, OSError, StopIteration) as exc:
        info["note"] = f"GoEmotions test not found under {root} ({exc}): recorded figures of the manifests"
        return None, info
    total = len(eval_set.texts)
    n = min(limit, total) if limit else total
    if n < total:
        eval_set.texts, eval_set.gold = eval_set.texts[:n], eval_set.gold[:n]
        eval_set.ids = None if eval_set.ids is None else eval_set.ids[:n]
    info.update(
        data=f"{eval_set.source} under {root}",
        texts=n,
        available=total,
        capped=n < total,
        scorer=f"scikit-learn {package_version('scikit-learn')} f1_score(average='macro', zero_division=0)",
        source="measured",
    )
    return eval_set, info


def macro_f1(clf, eval_set: datasets.EvalSet) -> float:
    """GoEmotions-28 macro-F1 of the classifier's own multi-label decisions on the evaluation set."""
    from sklearn.metrics import f1_score

    predictions = clf.predict(eval_set.texts, labels=QUALITY_LABELS)
    predicted = datasets.to_matrix([p.predicted for p in predictions], eval_set.labels)
    return round(float(f1_score(eval_set.gold, predicted, average="macro", zero_division=0)), 4)


# -- the measurement ---------------------------------------------------------------------------------
def measure_models(
    models: tuple[str, ...] | None,
    e2e_texts: list[str],
    warmup: int,
    quality_texts: int = 0,
    label_set: str | None = None,
) -> tuple[list[dict], dict]:
    """(one entry per model, the quality description); see the module docstring."""
    entries = [describe_model(spec) for spec in specs_from(models)]
    if entries:
        eval_set, quality = quality_data(quality_texts)
    else:
        eval_set, quality = (
            None,
            {**_quality_info(), "source": None, "note": "no model measured (--models none)"},
        )
    classifiers: dict[tuple[str, str], object] = {}
    for entry in entries:
        if not entry["available"]:
            log.warning("model %s not measured: %s", entry["name"], entry["skipped_reason"])
            continue
        entry["backends"] = []
        for backend in int8_backends(entry):
            row = {"backend": backend, "precision": entry["formats"][backend]["precision"]}
            try:
                clf = emolite.load(Path(entry["path"]), backend=backend, threads=1)
                clf.predict(e2e_texts[0] if e2e_texts else "ok", labels=label_set)  # the set exists here
            except EmoliteError as exc:
                log.warning("model %s, %s backend not measured: %s", entry["name"], backend, exc)
                entry["backends"].append({**row, "available": False, "skipped_reason": str(exc)})
                continue
            classifiers[(entry["name"], backend)] = clf
            entry["backends"].append({**row, "available": True})
        if not entry["backends"]:
            entry.update(available=False, skipped_reason="the bundle has no int8 model of an SDK backend")
    log.info("timing %d model/backend pairs interleaved on %d texts", len(classifiers), len(e2e_texts))
    fns = {f"{m}/{b}": _predictor(clf, label_set) for (m, b), clf in classifiers.items()}
    stats = timing.time_each_interleaved(fns, e2e_texts, warmup, ROUNDS) if fns else {}
    for entry in entries:
        for row in entry.get("backends", []):
            key = (entry["name"], row["backend"])
            if key not in classifiers:
                continue
            row["e2e_texts"] = stats[f"{key[0]}/{key[1]}"]
            row["macro_f1"] = _quality_of(classifiers[key], eval_set, entry["name"], row["backend"])
        _summarise(entry, quality)
    classifiers.clear()
    gc.collect()
    _against_default(entries)
    return entries, quality


def _predictor(clf, label_set):
    return lambda text: clf.predict(text, labels=label_set)


def _quality_of(clf, eval_set, name: str, backend: str) -> float | None:
    if eval_set is None:
        return None
    log.info("scoring %s (%s) on %d GoEmotions test texts", name, backend, len(eval_set.texts))
    try:
        return macro_f1(clf, eval_set)
    except (EmoliteError, KeyError) as exc:  # no goemotions label set, or labels outside the 28
        log.warning("model %s (%s): no %s: %s", name, backend, METRIC, exc)
        return None


def _summarise(entry: dict, quality: dict) -> None:
    """The model's figures: its fastest int8 backend, that backend's e2e median and the model's quality."""
    if not entry["available"]:
        return
    timed = [r for r in entry["backends"] if r.get("available") and r["e2e_texts"]["p50"] is not None]
    if not timed:
        entry.update(fastest_backend=None, e2e_p50_ms=None, quality=None)
        return
    best = min(timed, key=lambda r: r["e2e_texts"]["p50"])
    entry["fastest_backend"] = best["backend"]
    entry["e2e_p50_ms"] = best["e2e_texts"]["p50"]
    measured = best.get("macro_f1")
    recorded = entry.get("recorded_macro_f1")
    if measured is not None:
        entry["quality"] = {"macro_f1": measured, "source": "measured", "backend": best["backend"]}
    elif recorded is not None:
        why = quality.get("note") or f"the {QUALITY_LABELS} label set could not be scored"
        entry["quality"] = {"macro_f1": recorded, "source": "recorded", "backend": None, "note": why}
    else:
        entry["quality"] = {
            "macro_f1": None,
            "source": None,
            "backend": None,
            "note": "not measured, none recorded",
        }


def _against_default(entries: list[dict]) -> None:
    """Speed-up over the default model (its e2e median / this one's) and macro-F1 difference (this - default)."""
    default = next((e for e in entries if e["default"] and e.get("e2e_p50_ms")), None)
    for e in entries:
        if not e.get("e2e_p50_ms"):
            continue
        if default is None:
            e["vs_default"] = None
            continue
        f1, ref = (e.get("quality") or {}), (default.get("quality") or {})
        delta = None
        if f1.get("macro_f1") is not None and ref.get("macro_f1") is not None:
            delta = round(f1["macro_f1"] - ref["macro_f1"], 4)
        sources = {f1.get("source"), ref.get("source")}
        e["vs_default"] = {
            "speedup": round(default["e2e_p50_ms"] / e["e2e_p50_ms"], 3),
            "macro_f1_delta": delta,
            "quality_source": sources.pop() if len(sources) == 1 else "mixed",
        }


def smaller_package(entries: list[dict]) -> dict | None:
    """The fastest measured non-default model (the "smaller package" of the targets), or None."""
    others = [e for e in entries if not e["default"] and e.get("e2e_p50_ms") and e.get("vs_default")]
    return min(others, key=lambda e: e["e2e_p50_ms"]) if others else None
