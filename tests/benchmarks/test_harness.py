"""The benchmark harness on the real shipped bundle and real runtimes: structure and sanity, never speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emolite.benchmarks import report as rep
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
)


@pytest.fixture(scope="module")
def report():
    return run(TINY)


def _stats_sane(stats: dict) -> None:
    assert stats["n"] > 0
    assert 0 < stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
    assert stats["min"] <= stats["mean"] <= stats["max"]


def test_report_matches_schema(report):
    assert validate(report) == []
    assert report["schema"] == load_schema()["$id"]


def test_latency_cells_are_sane_and_have_the_asked_lengths(report):
    row = report["subjects"][0]
    assert row["available"] and row["name"] == "onnx" and row["threads"] == 1
    assert [c["length"] for c in row["latency"]] == [16, 40]
    for cell in row["latency"]:
        _stats_sane(cell["model"])
        _stats_sane(cell["e2e"])
    _stats_sane(row["e2e_texts"])
    assert row["e2e_texts"]["n"] == TINY.e2e_texts
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
    assert all(t["texts"] == TINY.throughput_texts and t["texts_per_s"] > 0 for t in row["throughput"])
    proc = row["process"]
    cold = proc["cold_start"]
    parts = cold["import_ms"] + cold["load_ms"] + cold["first_prediction_ms"]
    assert abs(cold["total_ms"] - parts) < 1.0
    assert cold["total_ms"] < cold["process_wall_ms"]
    assert proc["peak_rss_after_first_mb"] <= proc["peak_rss_mb"]
    assert proc["modules"] == ["onnxruntime"]  # the SDK-only child never imports torch


def test_roofline_and_targets(report):
    gemm = report["gemm"][0]
    assert sorted({r["m"] for r in gemm["results"]}) == [16, 40, 512]
    assert gemm["peak_gops"] == max(r["gops"] for r in gemm["results"])
    lengths = [r["length"] for r in report["roofline"]]
    assert lengths == [16, 40]
    for r in report["roofline"]:
        assert r["model_gflop"] > 0 and r["achieved_gops"] > 0
        assert r["gemm_gops"] == gemm["peak_gops"]
        assert abs(r["share"] - r["achieved_gops"] / r["gemm_gops"]) < 1e-2
        assert r["share_same_rows"] >= r["share"]  # the rate at M=length is at most the peak
    names = [t["name"] for t in report["targets"]]
    assert names == ["e2e_p50_ms", "speedup_vs_pytorch", "peak_rss_mb", "cold_start_ms"]
    by_name = {t["name"]: t for t in report["targets"]}
    assert by_name["e2e_p50_ms"]["measured"] == report["subjects"][0]["e2e_texts"]["p50"]
    assert by_name["speedup_vs_pytorch"]["measured"] is None  # no PyTorch row in this run
    assert by_name["speedup_vs_pytorch"]["met"] is None


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
    out, md = tmp_path / "r.json", tmp_path / "r.md"
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
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert validate(data) == []
    assert data["config"]["quick"] is True and data["config"]["lengths"] == [16]
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
        " runs=3, e2e_texts=3, throughput_texts=2, processes=False, gemm_min_time_s=0.01))\n"
        "assert r['subjects'][0]['available']\n"
        "bad = [m for m in ('torch', 'transformers', 'onnx', 'emolite.distill', 'emolite.export') if m in sys.modules]\n"
        "print('LOADED', bad)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout


def test_schema_file_is_package_data():
    from emolite.benchmarks import schema

    assert Path(schema.SCHEMA_FILE).is_file()
