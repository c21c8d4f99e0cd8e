"""Building blocks of the harness: timing summaries, the schema validator, inputs, the GEMM limit, metadata."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from emolite.benchmarks import roofline, schema, system, texts, timing
from emolite.errors import InvalidInputError

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


def test_interleaved_timing_calls_each_function_once_per_item():
    calls: dict[str, list] = {"a": [], "b": []}
    fns = {k: (lambda item, k=k: calls[k].append(item)) for k in calls}
    stats = timing.time_each_interleaved(fns, list(range(23)), warmup=2, rounds=5)
    for k in calls:  # the warm-up items first, then every item once, in order
        assert calls[k] == [0, 1] + list(range(23))
        assert stats[k]["n"] == 23
    assert timing.time_each_interleaved({}, [1, 2], warmup=1) == {}


def test_schema_violations_are_named_by_path():
    problems = schema.validate({"schema": "other", "subjects": [{"name": "onnx", "threads": 0}]})
    assert "$/: 'created' is a required property" in problems
    assert "$/schema: 'other' is not one of ['emolite-bench/2']" in problems
    assert "$/subjects/0: 'available' is a required property" in problems
    assert "$/subjects/0/threads: 0 is less than the minimum of 1" in problems
    stats = {"$ref": "#/definitions/stats", "definitions": schema.load_schema()["definitions"]}
    good = {"n": 1, "p50": 1.0, "p90": 1, "p99": 1, "mean": 1, "min": 1, "max": 1}
    assert schema.validate(good, stats) == []
    assert schema.validate({**good, "p50": "x"}, stats) == ["$/p50: 'x' is not of type 'number', 'null'"]
    assert schema.validate({**good, "n": True}, stats)  # a bool is not an integer


def test_goemotions_reader_handles_quoted_texts(shared_data):
    items = texts.read_goemotions(shared_data / "goemotions" / "test.tsv")
    assert len(items) == 5427
    # '"""a"" ""b"""' in the file is the text '"a" "b"': a plain split would keep the CSV escaping
    assert '"We need more content." "OK. here\'s some ballerina shoes."' in items
    assert not any('""' in t or "\t" in t for t in items)


def test_default_texts_are_goemotions_test_from_the_shared_data(shared_data, monkeypatch):
    monkeypatch.setenv("EMOLITE_DATA", str(shared_data))
    items, source = texts.load_texts()
    assert items == texts.read_goemotions(shared_data / "goemotions" / "test.tsv")
    assert source.startswith("GoEmotions test") and str(shared_data) in source


def test_texts_fall_back_to_the_bundled_sample_and_say_so(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("EMOLITE_DATA", str(tmp_path / "no-data"))
    items, source = texts.load_texts()
    assert items == texts.read_lines(texts.SAMPLE_TEXTS) and len(items) >= 100
    assert source.startswith(texts.SAMPLE_SOURCE) and str(tmp_path / "no-data") in source
    assert "using the bundled sample" in caplog.text
    assert texts.subsample(items, 10) == texts.subsample(items, 10) != items[:10]  # fixed seed, shuffled


def test_texts_from_a_file(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("one\n\n two \n")
    assert texts.load_texts(f) == (["one", "two"], str(f))
    split = tmp_path / "goemotions" / "dev.tsv"
    split.parent.mkdir()
    split.write_text('plain text\t1\tid1\n"""quoted"" text"\t2\tid2\n')
    assert texts.load_texts(split) == (["plain text", '"quoted" text'], str(split))
    with pytest.raises(InvalidInputError, match="one text per line"):
        texts.load_texts(tmp_path / "elsewhere.tsv")


@pytest.mark.parametrize("length", [2, 3, 16, 64, 128])
def test_text_of_length_is_exact(clf, length):
    words = texts.vocabulary(texts.read_lines(texts.SAMPLE_TEXTS))
    text = texts.text_of_length(clf.encoder, words, length)
    assert len(clf.encoder.encode([text])[0][0]) == length


def test_committed_gemm_graph_is_what_the_builder_makes():
    pytest.importorskip("onnx")
    assert roofline.GEMM_MODEL.read_bytes() == roofline.build_gemm_model()


def test_gemm_benchmark_reports_every_shape():
    result = roofline.gemm_benchmark(threads=1, rows=(64,), min_time_s=0.01)
    rows = result["results"]
    assert [(r["shape"], r["m"], r["k"], r["n"]) for r in rows] == [
        ("qkvo", 64, 384, 384),
        ("ffn_up", 64, 384, 1536),
        ("ffn_down", 64, 1536, 384),
    ]
    for r in rows:  # GOPS = 2*M*K*N per call over the measured time (M=64: ms to 4 digits is exact to 0.1%)
        assert r["gops"] == pytest.approx(2 * r["m"] * r["k"] * r["n"] / (r["ms"] / 1e3) / 1e9, rel=1e-2)
    assert result["peak_gops"] == max(r["gops"] for r in rows)
    # the layer mix weighs each shape by its count per layer (4 attention projections, 1 up, 1 down)
    ops = sum(c * 2 * 64 * k * n for _, k, n, c in roofline.SHAPES)
    seconds = sum(c * r["ms"] / 1e3 for (_, _, _, c), r in zip(roofline.SHAPES, rows))
    assert result["layer_mix_gops"]["64"] == pytest.approx(ops / seconds / 1e9, rel=1e-2)


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
