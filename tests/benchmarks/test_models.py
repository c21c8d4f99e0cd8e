"""The installed-models part of the bench on the real default bundle and the real shared data: structure,
ranges and fallbacks, never speed."""

from __future__ import annotations

import argparse
import json
import sys

import pytest

from emolite.benchmarks import cli, models
from emolite.benchmarks import report as rep
from emolite.benchmarks.runner import BenchConfig, evaluate_targets, quick, run
from emolite.benchmarks.schema import validate

QUALITY_TEXTS = 60
SMALL = BenchConfig(
    subjects=("onnx", "tflite"),
    threads=(1,),
    lengths=(16,),
    batches=(1,),
    warmup=2,
    runs=5,
    cell_budget_s=0.5,
    e2e_texts=12,
    throughput_texts=4,
    processes=False,
    gemm_min_time_s=0.01,
    quality_texts=QUALITY_TEXTS,
)


@pytest.fixture(scope="module")
def report(shared_data):
    mp = pytest.MonkeyPatch()
    mp.setenv("EMOLITE_DATA", str(shared_data))
    try:
        yield run(SMALL)
    finally:
        mp.undo()


def _default(report) -> dict:
    return next(m for m in report["models"] if m["name"] == "default")


def test_report_with_models_matches_schema(report):
    assert validate(report) == []
    names = [m["name"] for m in report["models"]]
    assert names[0] == "default" and len(set(names)) == len(
        names
    )  # every installed model once, default first
    from emolite import registry

    assert set(names) >= set(registry.installed())


def test_default_model_speed_and_quality(report, default_bundle):
    entry = _default(report)
    assert entry["default"] and entry["available"] and entry["path"] == str(default_bundle)
    assert entry["encoder"]["layers"] == 6 and entry["formats"]["onnx"]["bytes"] > 0
    timed = [r for r in entry["backends"] if r["available"]]
    assert timed, entry["backends"]  # at least one int8 backend passes its golden check here
    assert {r["backend"] for r in entry["backends"]} <= {"onnx", "tflite"}
    for r in entry["backends"]:
        if r["available"]:
            assert r["e2e_texts"]["n"] == SMALL.e2e_texts  # one timed call per bench text
            assert 0 <= r["macro_f1"] <= 1
        else:
            assert r["skipped_reason"]
    fastest = next(r for r in timed if r["backend"] == entry["fastest_backend"])
    assert entry["e2e_p50_ms"] == fastest["e2e_texts"]["p50"] == min(r["e2e_texts"]["p50"] for r in timed)
    assert entry["quality"] == {
        "macro_f1": fastest["macro_f1"],
        "source": "measured",
        "backend": fastest["backend"],
    }
    assert entry["vs_default"] == {"speedup": 1.0, "macro_f1_delta": 0.0, "quality_source": "measured"}
    assert 0 <= entry["recorded_macro_f1"] <= 1  # the manifest's own record, for comparison


def test_quality_is_capped_and_says_so(report, shared_data):
    q = report["quality"]
    assert q["source"] == "measured" and q["metric"] == "GoEmotions-28 macro-F1"
    assert q["texts"] == QUALITY_TEXTS and q["available"] == 5427 and q["capped"] is True
    assert str(shared_data) in q["data"] and q["scorer"].startswith("scikit-learn ")
    assert (
        quick(BenchConfig()).quality_texts == 500 and BenchConfig().quality_texts == 0
    )  # 0: the whole split


def test_quality_is_the_sdk_decisions_scored_by_sklearn(shared_data, monkeypatch):
    """The figure is sklearn's macro-F1 of `.predicted` against the reader's gold matrix, recomputed here."""
    from sklearn.metrics import f1_score

    import emolite
    from emolite import datasets

    monkeypatch.setenv("EMOLITE_DATA", str(shared_data))
    eval_set, info = models.quality_data(limit=25)
    assert info["texts"] == 25 == len(eval_set.texts) == len(eval_set.gold)
    clf = emolite.load(backend="tflite")
    predicted = [p.predicted for p in clf.predict(eval_set.texts, labels="goemotions")]
    expected = f1_score(
        eval_set.gold, datasets.to_matrix(predicted, eval_set.labels), average="macro", zero_division=0
    )
    assert models.macro_f1(clf, eval_set) == round(float(expected), 4)


def test_smaller_package_row(report):
    by_name = {t["name"]: t for t in report["targets"]}
    speed, f1 = by_name["smaller_speedup"], by_name["smaller_f1_delta"]
    assert speed["target"] == ">= 1.8" and f1["target"] == ">= -0.02"
    others = [m for m in report["models"] if not m["default"] and m.get("e2e_p50_ms")]
    if not others:  # only the default installed: said so, not a failure
        assert [m["name"] for m in report["models"] if not m["default"]] == []
        for t in (speed, f1):
            assert t["measured"] is None and t["met"] is None and t["note"] == "not installed"
    else:
        small = min(others, key=lambda m: m["e2e_p50_ms"])
        assert speed["subject"] == f"{small['name']} ({small['fastest_backend']})"
        assert speed["measured"] == small["vs_default"]["speedup"] > 0
        assert f1["measured"] == small["vs_default"]["macro_f1_delta"]


def test_smaller_package_against_default_synthetic():
    """The target rows from model entries (numbers made up: the arithmetic, not a timing)."""

    def entry(name, p50, f1, default=False):
        return {
            "name": name,
            "default": default,
            "available": True,
            "fastest_backend": "onnx",
            "e2e_p50_ms": p50,
            "quality": {"macro_f1": f1, "source": "measured", "backend": "onnx"},
        }

    entries = [entry("default", 4.0, 0.36, True), entry("minilm-l3", 2.0, 0.35), entry("other", 3.0, 0.2)]
    models._against_default(entries)
    assert entries[1]["vs_default"] == {"speedup": 2.0, "macro_f1_delta": -0.01, "quality_source": "measured"}
    fake = {
        "subjects": [],
        "models": entries,
        "config": {"models": None},
        "system": {"emulation": {"emulated": False}},
    }
    speed, f1 = evaluate_targets(fake)
    assert (speed["subject"], speed["reference"], speed["measured"], speed["met"]) == (
        "minilm-l3 (onnx)",
        "default (onnx)",
        2.0,
        True,
    )
    assert (f1["measured"], f1["met"]) == (-0.01, True)
    none = evaluate_targets({**fake, "models": [], "config": {"models": []}})
    assert [t["note"] for t in none] == ["not measured (--models none)"] * 2


def test_speedup_target_is_against_sentence_transformers_else_pytorch():
    def row(name, precision, p50):
        return {
            "name": name,
            "threads": 1,
            "available": True,
            "precision": precision,
            "e2e_texts": {"p50": p50},
        }

    fake = {
        "subjects": [
            row("onnx", "int8", 2.0),
            row("pytorch-fp32", "fp32", 10.0),
            row("sentence-transformers", "fp32", 14.0),
        ],
        "models": [],
        "config": {"models": []},
        "system": {"emulation": {"emulated": False}},
    }
    speedup = next(t for t in evaluate_targets(fake) if t["name"] == "speedup_vs_fp32")
    assert (speedup["reference"], speedup["measured"], speedup["met"], speedup["note"]) == (
        "sentence-transformers",
        7.0,
        True,
        None,
    )
    fake["subjects"].pop()
    speedup = next(t for t in evaluate_targets(fake) if t["name"] == "speedup_vs_fp32")
    assert (speedup["reference"], speedup["measured"], speedup["met"]) == ("pytorch-fp32", 5.0, False)
    assert "sentence-transformers not measured" in speedup["note"]


def test_recorded_quality_without_the_data(tmp_path, monkeypatch, default_bundle):
    monkeypatch.setenv("EMOLITE_DATA", str(tmp_path / "no-data"))
    entries, quality = models.measure_models(("default",), ["so happy", "so sad", "ok"], warmup=1)
    assert quality["source"] == "recorded" and str(tmp_path / "no-data") in quality["note"]
    (entry,) = entries
    manifest = json.loads((default_bundle / "manifest.json").read_text())
    recorded = manifest["evaluation"]["models"]["int8"]["scores"]["goemotions-28"]["macro_f1"]
    assert entry["quality"]["source"] == "recorded" and entry["quality"]["macro_f1"] == recorded
    assert all(r.get("macro_f1") is None for r in entry["backends"])
    fake = {"models": entries, "quality": quality, "texts": {"used": 3}}
    assert "(recorded)" in rep.models_table(fake) and "record" in rep.quality_line(fake)


def test_recorded_quality_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    eval_set, info = models.quality_data()
    assert eval_set is None and info["source"] == "recorded" and "scikit-learn" in info["note"]


def test_models_option_names_and_paths(default_bundle):
    (by_name,) = models.specs_from(("default",))
    assert by_name.default and by_name.path == default_bundle and by_name.error is None
    by_path, missing = models.specs_from((str(default_bundle), "no-such-model"))
    assert by_path.default and by_path.origin == "path" and by_path.name == str(default_bundle)
    assert missing.path is None and "no-such-model" in missing.error
    assert models.describe_model(missing)["available"] is False
    assert models.specs_from(()) == []
    assert models.installed_specs()[0].name == "default"


def test_markdown_has_the_models_table_with_quality(report):
    text = rep.markdown(report, targets=True)
    assert "| model | encoder | int8 model MB |" in text and "| GoEmotions-28 macro-F1 |" in text
    assert "| **default** | 6 layers, 22.7M |" in text
    assert f"the first {QUALITY_TEXTS} of 5427 texts (capped" in text
    assert "smaller package" in text
    if not [m for m in report["models"] if not m["default"]]:
        assert "| not installed | n/a |" in text


def test_quality_plot_is_written(report, tmp_path):
    pytest.importorskip("matplotlib")
    from emolite.benchmarks.plot import X_LABEL, Y_LABEL, plot_quality, quality_plot_path

    assert (X_LABEL, Y_LABEL) == ("e2e median ms (1 thread)", "GoEmotions-28 macro-F1")
    out = plot_quality(report, quality_plot_path(tmp_path / "bench.png"))
    assert out == tmp_path / "bench-quality.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "expected_models", "expected_texts"),
    [
        (["bench"], None, 0),  # every installed model, the whole split
        (["bench", "--quick"], None, 500),
        (["bench", "--quick", "--quality-texts", "0", "--models", "none"], (), 0),
        (["bench", "--models", "default, ./models/minilm-l3"], ("default", "./models/minilm-l3"), 0),
    ],
)
def test_models_options(argv, expected_models, expected_texts):
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    config = cli.config_from_args(parser.parse_args(argv))
    assert (config.models, config.quality_texts) == (expected_models, expected_texts)
