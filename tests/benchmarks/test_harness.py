"""The benchmark harness on the real shipped bundle and real runtimes: structure and sanity, never speed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from emolite.benchmarks import report as rep
from emolite.benchmarks import roofline
from emolite.benchmarks.runner import BenchConfig, run
from emolite.benchmarks.schema import load_schema, validate

TINY = BenchConfig(
    subjects=("onnx",),
    threads=(1,),
    lengths=(16, 40),
    batches=(1, 4),
    warmup=2,
    runs=12,
    cell_budget_s=1.0,
    e2e_texts=24,
    throughput_texts=8,
    cold_runs=1,
    memory_texts=4,
    gemm_min_time_s=0.01,
    quality_texts=40,
)


@pytest.fixture(scope="module")
def report():
    return run(TINY)


def test_report_matches_schema(report):
    assert validate(report) == []
    assert report["schema"] == load_schema()["$id"]
    broken = {**report, "subjects": [{**report["subjects"][0], "threads": "one"}]}
    assert validate(broken) == ["$/subjects/0/threads: 'one' is not of type 'integer'"]


def test_latency_cells_have_the_asked_lengths_and_counts(report):
    row = report["subjects"][0]
    assert row["available"] and row["name"] == "onnx" and row["threads"] == 1
    assert [c["length"] for c in row["latency"]] == [16, 40]
    for cell in row["latency"]:  # the time budget may stop a cell early, never before its first call
        assert 1 <= cell["model"]["n"] <= TINY.runs and 1 <= cell["e2e"]["n"] <= TINY.runs
    assert row["e2e_texts"]["n"] == TINY.e2e_texts  # one timed call per text, no budget
    assert row["golden_cosine"] == 1.0


def test_sizes_match_the_files(report, default_bundle):
    row = report["subjects"][0]
    assert row["model_files"] == {"model.onnx": (default_bundle / "model.onnx").stat().st_size}
    assert row["model_bytes"] == sum(row["model_files"].values())
    assert report["bundle"]["formats"]["onnx"]["bytes"] == (default_bundle / "model.onnx").stat().st_size
    manifest = json.loads((default_bundle / "manifest.json").read_text())
    assert report["bundle"]["total_bytes"] == sum(m["bytes"] for m in manifest["files"].values())


def test_throughput_and_fresh_process(report):
    row = report["subjects"][0]
    assert [t["batch"] for t in row["throughput"]] == [1, 4]
    for t in row["throughput"]:
        assert t["texts"] == TINY.throughput_texts
        assert t["texts_per_s"] == pytest.approx(t["texts"] / t["seconds"], rel=1e-2)
    proc = row["process"]
    cold = proc["cold_start"]
    parts = cold["import_ms"] + cold["load_ms"] + cold["first_prediction_ms"]
    assert abs(cold["total_ms"] - parts) < 1.0
    assert cold["total_ms"] < cold["process_wall_ms"]
    assert proc["runs"] == TINY.cold_runs and proc["workload_texts"] == TINY.memory_texts + 1
    assert proc["modules"] == ["onnxruntime"]  # the SDK-only child never imports torch


def test_roofline_and_targets(report):
    gemm = report["gemm"][0]
    assert sorted({r["m"] for r in gemm["results"]}) == [16, 40, 512]
    assert gemm["peak_gops"] == max(r["gops"] for r in gemm["results"])
    lengths = [r["length"] for r in report["roofline"]]
    assert lengths == [16, 40]
    cells = {c["length"]: c for c in report["subjects"][0]["latency"]}
    for r in report["roofline"]:
        flops = roofline.model_flops(r["shape"], r["length"])
        assert r["model_gflop"] == round(flops / 1e9, 4)
        assert r["achieved_gops"] == pytest.approx(
            flops / (cells[r["length"]]["model"]["p50"] / 1e3) / 1e9, rel=1e-3
        )
        assert r["gemm_gops"] == gemm["peak_gops"]
        assert r["share"] == pytest.approx(r["achieved_gops"] / r["gemm_gops"], abs=1e-3)
        same_rows = gemm["layer_mix_gops"][str(r["length"])]
        assert r["share_same_rows"] == pytest.approx(r["achieved_gops"] / same_rows, abs=1e-3)
    names = [t["name"] for t in report["targets"]]
    assert names == [
        "e2e_p50_ms",
        "speedup_vs_fp32",
        "peak_rss_mb",  # one row per 1-thread int8 backend: onnx only here
        "cold_start_ms",
        "smaller_speedup",
        "smaller_f1_delta",
    ]
    by_name = {t["name"]: t for t in report["targets"]}
    assert by_name["e2e_p50_ms"]["measured"] == report["subjects"][0]["e2e_texts"]["p50"]
    assert by_name["e2e_p50_ms"]["target"] == "<= 1.5"
    assert by_name["speedup_vs_fp32"]["measured"] is None  # no fp32 reference in this run
    assert by_name["speedup_vs_fp32"]["met"] is None and by_name["speedup_vs_fp32"]["note"]
    proc = report["subjects"][0]["process"]
    assert by_name["peak_rss_mb"]["measured"] == proc["peak_rss_predictions_mb"] <= proc["peak_rss_mb"]
    assert by_name["peak_rss_mb"]["workload_predictions"] == TINY.memory_texts + 1
    assert by_name["peak_rss_mb"]["note"] == "workload 5 predictions, not 500"  # the target's workload is 500
    assert BenchConfig().memory_texts + 1 == 500
    assert by_name["cold_start_ms"]["measured"] == proc["cold_start"]["total_ms"]


def test_metadata_records_machine_and_load(report):
    s = report["system"]
    assert s["cores"]["logical"] >= 1 and s["cpu_model"]
    assert s["runtimes"]["onnxruntime"] and s["runtimes"]["numpy"]
    assert len(s["load_average"]) == 3 and len(s["load_average_end"]) == 3
    assert s["emulation"]["emulated"] is False
    assert report["timing_kind"] == "device"


def test_markdown_and_compare(report, tmp_path):
    text = rep.markdown(report)
    assert "| emolite ONNX | int8" in text and "model p50 ms L=16" in text
    assert "% of the peak int8 GEMM rate; " in text and "Texts: 24 from " in text
    assert "TFLite" not in text or "not measured" in text
    assert "| target |" not in text  # users see their numbers, not the project's goals...
    assert "| target |" in rep.markdown(report, targets=True)  # ...unless asked (make bench)
    path = rep.write_json(report, tmp_path / "a.json")
    rows = rep.compare(rep.read_json(path), report)
    assert rows and rows[0]["subject"] == "onnx"
    assert all(v == 1.0 for k, v in rows[0].items() if k not in ("subject", "threads"))


def test_compare_ratio_direction():
    a = {
        "subjects": [
            {
                "name": "onnx",
                "threads": 1,
                "available": True,
                "latency": [],
                "e2e_texts": {"p50": 4.0},
                "model_bytes": 100,
                "process": None,
            }
        ]
    }
    b = {
        "subjects": [
            {
                "name": "onnx",
                "threads": 1,
                "available": True,
                "latency": [],
                "e2e_texts": {"p50": 2.0},
                "model_bytes": 50,
                "process": None,
            }
        ]
    }
    (row,) = rep.compare(a, b)
    assert row["e2e_texts_p50"] == 0.5 and row["model_bytes"] == 0.5 and row["peak_rss_mb"] is None


def test_plot_writes_a_png(report, tmp_path):
    pytest.importorskip("matplotlib")
    from emolite.benchmarks.plot import plot_latency

    out = plot_latency(report, tmp_path / "latency.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_quick_writes_valid_json(tmp_path):
    out, md, png = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "r.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "emolite",
            "bench",
            "--quick",
            "--backends",
            "onnx",
            "--lengths",
            "16",
            "--no-processes",
            "--json",
            str(out),
            "--markdown",
            str(md),
            "--models",
            "default",
            "--quality-texts",
            "30",
            "--plot",
            str(png),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert validate(data) == []
    assert data["config"]["quick"] is True and data["config"]["lengths"] == [16]
    assert data["config"]["models"] == ["default"] and data["config"]["quality_texts"] == 30
    assert [m["name"] for m in data["models"]] == ["default"] and data["quality"]["texts"] == 30
    for plot in (png, tmp_path / "r-quality.png"):  # latency vs length, and quality vs latency
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert data["command"].startswith("emolite bench --quick")
    assert md.read_text() in proc.stdout


def test_cli_compare_and_bad_backend(tmp_path, report):
    a = rep.write_json(report, tmp_path / "a.json")
    proc = subprocess.run(
        [sys.executable, "-m", "emolite", "bench", "--compare", str(a), str(a)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "| emolite ONNX | 1 | 1.000" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "emolite", "bench", "--backends", "cuda"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown backend" in bad.stderr


def test_child_peak_rss_is_its_own_not_the_parents():
    # Linux folds a parent's high-water RSS into the child's ru_maxrss at exec; the child reads VmHWM instead.
    from emolite.benchmarks.child import run_child

    ballast = bytearray(400 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: the parent is now > 400 MB resident
    try:
        result = run_child("onnx", None, 1, ["so happy", "so sad"])
    finally:
        del ballast
    assert 0 < result["peak_rss_mb"] < 400


def test_sdk_only_run_never_imports_torch(tmp_path):
    code = (
        "import sys\n"
        "from emolite.benchmarks.runner import BenchConfig, run\n"
        "r = run(BenchConfig(subjects=('onnx', 'tflite'), threads=(1,), lengths=(16,), batches=(1,), warmup=1,"
        " runs=3, e2e_texts=3, throughput_texts=2, processes=False, gemm_min_time_s=0.01,"
        " quality_texts=20))\n"
        "assert r['subjects'][0]['available']\n"
        "bad = [m for m in ('torch', 'transformers', 'onnx', 'emolite.distill', 'emolite.export') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout
