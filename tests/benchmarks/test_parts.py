"""Building blocks of the harness: timing summaries, the schema validator, inputs, the GEMM limit, metadata."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from emolite.benchmarks import roofline, schema, system, texts, timing

ARM_DIR = Path(roofline.__file__).with_name("arm")


def test_summarize_orders_percentiles():
    stats = timing.summarize([0.001 * i for i in range(1, 101)])
    assert stats["n"] == 100
    assert stats["min"] == 1.0 and stats["max"] == 100.0
    assert stats["p50"] <= stats["p90"] <= stats["p99"]
    assert math.isclose(stats["mean"], 50.5)
    assert timing.summarize([])["p50"] is None


def test_time_repeated_respects_warmup_and_runs():
    calls = []
    stats = timing.time_repeated(lambda: calls.append(1), warmup=3, runs=7)
    assert len(calls) == 10 and stats["n"] == 7


def test_throughput_counts_every_text():
    seen = []
    result = timing.throughput(seen.extend, list(range(10)), batch=4, warmup_batches=1)
    assert result["texts"] == 10 and result["batch"] == 4
    assert len(seen) == 14  # one warm-up batch of 4, then all 10


def test_hand_validator_finds_violations():
    s = schema.load_schema()
    problems = list(
        schema._check({"schema": "other", "subjects": [{"name": "onnx", "threads": 0}]}, s, s, "$")
    )
    text = "\n".join(problems)
    assert "'created' is a required property" in text
    assert "'other' is not one of" in text
    assert "$/subjects/0: 'available' is a required property" in text
    assert "$/subjects/0/threads: 0 is less than the minimum of 1" in text
    stats = {"$ref": "#/definitions/stats"}
    assert list(
        schema._check({"n": 1, "p50": "x", "p90": 1, "p99": 1, "mean": 1, "min": 1, "max": 1}, stats, s, "$")
    )
    assert list(schema._check(True, {"type": "integer"}, s, "$"))  # a bool is not an integer


def test_goemotions_reader_handles_quoted_texts(shared_data):
    items = texts.read_goemotions(shared_data / "goemotions" / "test.tsv")
    assert len(items) == 5427
    # '"""a"" ""b"""' in the file is the text '"a" "b"': a plain split would keep the CSV escaping
    assert '"We need more content." "OK. here\'s some ballerina shoes."' in items
    assert not any('""' in t or "\t" in t for t in items)


def test_texts_fall_back_to_the_bundled_sample(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("one\n\n two \n")
    assert texts.load_texts(f) == (["one", "two"], str(f))
    sample = texts.read_lines(texts.SAMPLE_TEXTS)
    assert len(sample) >= 100
    assert texts.subsample(sample, 10) == texts.subsample(sample, 10)  # fixed seed


@pytest.mark.parametrize("length", [2, 3, 16, 64, 128])
def test_text_of_length_is_exact(clf, length):
    words = texts.vocabulary(texts.read_lines(texts.SAMPLE_TEXTS))
    text = texts.text_of_length(clf.encoder, words, length)
    assert len(clf.encoder.encode([text])[0][0]) == length


def test_committed_gemm_graph_is_what_the_builder_makes():
    pytest.importorskip("onnx")
    assert roofline.GEMM_MODEL.read_bytes() == roofline.build_gemm_model()


def test_gemm_benchmark_reports_every_shape():
    result = roofline.gemm_benchmark(threads=1, rows=(8,), min_time_s=0.01)
    assert [(r["shape"], r["m"]) for r in result["results"]] == [("qkvo", 8), ("ffn_up", 8), ("ffn_down", 8)]
    assert all(r["gops"] > 0 for r in result["results"])
    assert 0 < result["layer_mix_gops"]["8"] <= result["peak_gops"]


def test_model_flops_of_minilm(default_bundle):
    import json

    manifest = json.loads((default_bundle / "manifest.json").read_text())
    shape = roofline.encoder_shape(manifest, vocab_size=30522)
    assert (shape["layers"], shape["hidden"], shape["intermediate"]) == (6, 384, 1536)
    # 6 layers x 16 tokens x (4*384^2 + 2*384*1536) MACs + attention 2*16^2*384, two FLOPs per MAC.
    assert roofline.model_flops(shape, 16) == 2 * 6 * (
        16 * (4 * 384 * 384 + 2 * 384 * 1536) + 2 * 16 * 16 * 384
    )


def test_arm_cpuinfo_is_read_as_arm():
    info = system.read_cpuinfo(str(ARM_DIR / "cpuinfo-cortex-a72.txt"))
    assert system.cpu_model(info) == "ARM implementer 0x41 part 0xd08"
    assert "asimd" in system.cpu_flags(info) and "asimddp" not in system.cpu_flags(info)
    a76 = system.read_cpuinfo(str(ARM_DIR / "cpuinfo-cortex-a76.txt"))
    assert a76["CPU part"] == "0xd0b" and "asimddp" in system.cpu_flags(a76)


def test_emulation_detection(monkeypatch):
    monkeypatch.delenv("EMOLITE_EMULATED", raising=False)
    monkeypatch.delenv("QEMU_CPU", raising=False)
    monkeypatch.delenv("QEMU_LD_PREFIX", raising=False)
    assert system.emulation()["emulated"] is False  # this test process runs natively
    monkeypatch.setenv("QEMU_CPU", "cortex-a72")
    found = system.emulation()
    assert (
        found["emulated"] is True and found["qemu_cpu"] == "cortex-a72" and "QEMU_CPU set" in found["reasons"]
    )
    monkeypatch.setattr(system.platform, "machine", lambda: "aarch64")
    monkeypatch.delenv("QEMU_CPU")
    assert (
        "aarch64 process sees an x86 /proc/cpuinfo"
        in system.emulation({"vendor_id": "AuthenticAMD"})["reasons"]
    )
