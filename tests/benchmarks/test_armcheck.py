"""The ARM check's parsing and comparison, on output recorded from a real run (emulated Cortex-A76, onnx).

The recording: benchmarks/arm/probe.py on three texts, on this x86 host and under qemu-aarch64 -cpu
cortex-a76 with the insn_marks plugin (the full check, `make arm-check`, is too heavy for `make test`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from emolite.benchmarks import armcheck

DATA = Path(__file__).with_name("data")


@pytest.fixture(scope="module")
def recorded():
    guest = json.loads((DATA / "arm_a76_onnx.out.json").read_text())
    reference = json.loads((DATA / "arm_x86_onnx.out.json").read_text())
    return reference, guest, (DATA / "arm_a76_onnx.marks.log").read_text()


def test_marks_parse_into_per_inference_instructions(recorded):
    _, guest, log = recorded
    marks, total = armcheck.parse_marks(log)
    assert len(marks) == 8 and marks == sorted(marks) and total > marks[-1]
    counts = armcheck.instruction_counts(marks, guest["regions"])
    assert counts["e2e"] == round((marks[3] - marks[2]) / 2)
    assert counts["model_L16"] < counts["e2e"]  # end to end = model + tokenise + score
    assert counts["model_L16"] < counts["model_L64"]
    assert counts["import_and_load"] > 10 * counts["e2e"]


def test_bad_mark_logs_are_refused():
    with pytest.raises(ValueError, match="out of order"):
        armcheck.parse_marks("emolite-mark 0 5\nemolite-mark 2 9\n")
    with pytest.raises(ValueError, match="expected 8"):
        armcheck.instruction_counts([1, 2, 3], {})


def test_recorded_run_is_not_identical_to_x86_but_passes_the_int8_bar(recorded):
    reference, guest, _ = recorded
    result = armcheck.compare(reference, guest)
    assert guest["machine"] == "aarch64" and reference["machine"] == "x86_64"
    assert result["texts"] == 3 and result["top_label_agreement"] == 3 and result["predicted_agreement"] == 3
    assert result["cosines"][:2] == [1.0, 1.0]
    # the long text's int8 rounding differs on ARM: under the golden-vector bar, well within the int8 one
    assert result["min_cosine"] == 0.99738 and result["worst_text"].startswith("I have been thinking")
    assert result["below_identical"] == 1 and result["identical"] is False
    assert result["as_close_to_fp32"] is None and result["passed"] is True
    assert "no fp32 reference" in result["verdict"]
    assert armcheck.compare(reference, guest, min_cosine=0.998)["passed"] is False


def test_label_mismatch_is_reported_and_fp32_context_decides(recorded):
    reference, guest, _ = recorded
    changed = {**guest, "top_labels": ["anger"] + guest["top_labels"][1:]}
    result = armcheck.compare(reference, changed, fp32=reference["embeddings"])
    assert result["top_label_mismatches"] == ["ok"] and result["identical"] is False
    assert result["min_cosine_to_fp32"]["x86"] == 1.0
    assert result["as_close_to_fp32"] is True  # guest within 0.005 of x86 (which is fp32 here) on every text
    assert result["passed"] is True and "as close to the fp32 encoder" in result["verdict"]
    # the long text: guest at cosine 0.99738 to x86 is more than 0.001 farther from "fp32" (= x86 here)
    assert armcheck._as_close_to_fp32(reference, guest, reference["embeddings"], tolerance=0.001) is False
    with pytest.raises(ValueError, match="different probe texts"):
        armcheck.compare(reference, {**guest, "texts": ["x", "y", "z"]})


def _unit(rows: np.ndarray) -> list:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).tolist()


def _run(embeddings: list, texts: list[str]) -> dict:
    return {
        "texts": texts,
        "embeddings": embeddings,
        "top_labels": ["joy"] * len(texts),
        "predicted": [["joy"]] * len(texts),
    }


def test_verdict_on_constructed_runs():
    """fp32 = e0 per text, x86 at cosine 0.99 to it; guests near x86 (pass), as far from fp32 as x86 but in
    another direction (0.98 to x86: fail), within the x86 bar but farther from fp32 (fail), unrelated (fail)."""
    texts = ["a", "b", "c"]
    fp32 = np.tile(np.eye(4)[0], (3, 1))
    x86 = _unit(fp32 + 0.1425 * np.eye(4)[1])  # cosine 0.99 to fp32
    elsewhere = _unit(fp32 + 0.1425 * np.eye(4)[2])  # as far from fp32, another direction: 0.98 to x86
    near = _unit(fp32 + 0.1425 * np.eye(4)[1] + 0.03 * np.eye(4)[2])  # 0.9996 to x86, as close to fp32
    farther = _unit(fp32 + 0.1425 * np.eye(4)[1] + 0.12 * np.eye(4)[3])  # 0.993 to x86, 0.983 to fp32
    broken = _unit(np.tile(np.eye(4)[3], (3, 1)))  # a wrong kernel: unrelated vectors
    ref = _run(x86, texts)

    ok = armcheck.compare(ref, _run(near, texts), fp32=fp32)
    assert ok["passed"] is True and ok["identical"] is True
    assert armcheck.compare(ref, _run(near, texts))["passed"] is True  # no fp32 reference: x86 bar alone

    result = armcheck.compare(ref, _run(elsewhere, texts), fp32=fp32)
    assert result["min_cosine"] < armcheck.MIN_COSINE_TO_X86 and result["as_close_to_fp32"] is True
    assert result["passed"] is False and "under the bar" in result["verdict"]

    result = armcheck.compare(ref, _run(farther, texts), fp32=fp32)
    assert result["min_cosine"] >= armcheck.MIN_COSINE_TO_X86 and result["as_close_to_fp32"] is False
    assert result["passed"] is False and "farther from the fp32 encoder" in result["verdict"]

    assert armcheck.compare(ref, _run(broken, texts), fp32=fp32)["passed"] is False


def test_verdict_bars():
    assert armcheck.verdict(0.99738, None)[0] is True  # the recorded A76 figure, no fp32 reference
    assert armcheck.verdict(0.99738, True)[0] is True
    assert armcheck.verdict(0.99738, False)[0] is False
    assert armcheck.verdict(0.9901, True)[0] is True and armcheck.verdict(0.9899, True)[0] is False
    assert armcheck.MIN_COSINE_TO_X86 < armcheck.IDENTICAL_COSINE


def test_fp32_reference_is_the_base_encoder_only_for_a_base_bundle(default_bundle, tmp_path):
    shipped = json.loads((default_bundle / "manifest.json").read_text())
    assert armcheck.fp32_checkpoint(str(default_bundle), "runs/default/best") == "runs/default/best"
    expected = "base" if shipped.get("training") is None else None
    assert armcheck.fp32_checkpoint(str(default_bundle), None) == expected


def test_result_json_is_written_into_a_missing_folder(tmp_path):
    """`make arm-check` in a fresh clone writes out/arm-check.json before out/ exists."""
    out = tmp_path / "fresh-clone" / "out" / "arm-check.json"
    armcheck.write_json({"passed": True, "rows": []}, out)
    assert json.loads(out.read_text()) == {"passed": True, "rows": []}


def test_summary_table(recorded):
    reference, guest, log = recorded
    marks, _ = armcheck.parse_marks(log)
    row = {
        "cpu": "cortex-a76",
        "backend": "onnx",
        "comparison": armcheck.compare(reference, guest),
        "instructions": armcheck.instruction_counts(marks, guest["regions"]),
    }
    table = armcheck.summarize([row])
    assert "| cortex-a76 | onnx | 3 | 0.997380 | 3/3 | 3/3 | no | - | 30 M |" in table
    assert table.endswith("| yes |")
    header, rule, body = table.splitlines()
    assert header.count("|") == rule.count("|") == body.count("|") == 14


def test_guest_command_pins_the_cpu_and_fakes_cpuinfo(tmp_path):
    env = armcheck.ArmEnv(
        cache=tmp_path, root=tmp_path / "root", site=tmp_path / "site", plugin=tmp_path / "p.so"
    )
    cmd = armcheck.guest_command(
        env, "cortex-a72", tmp_path / "c.json", tmp_path / "o.json", tmp_path / "m.log"
    )
    assert cmd[:2] == ["unshare", "-m"]
    assert "cpuinfo-cortex-a72.txt /proc/cpuinfo" in cmd[-1] and "-cpu cortex-a72" in cmd[-1]
    assert "max" not in cmd[-1].split()
    with pytest.raises(armcheck.ArmCheckError, match="no fake cpuinfo"):
        armcheck.guest_command(env, "max", tmp_path / "c", tmp_path / "o", tmp_path / "m")


def test_probe_runs_on_the_host(tmp_path):
    cfg = {
        "bundle": None,
        "backend": "onnx",
        "texts": ["ok", "so happy"],
        "repeats": 1,
        "region_text": "hi there",
    }
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    subprocess.run(
        [
            sys.executable,
            str(armcheck.ARM_DIR / "probe.py"),
            str(tmp_path / "c.json"),
            str(tmp_path / "o.json"),
        ],
        check=True,
        timeout=120,
    )
    out = json.loads((tmp_path / "o.json").read_text())
    assert out["texts"] == cfg["texts"] and len(out["embeddings"]) == 2 and len(out["embeddings"][0]) == 384
    assert set(out["regions"]) == set(armcheck.REGIONS)


@pytest.mark.skipif(
    shutil.which("gcc") is None or not Path("/usr/include/glib-2.0/glib.h").is_file(),
    reason="needs gcc and libglib2.0-dev",
)
def test_plugin_source_compiles_against_its_api(tmp_path):
    # qemu-plugin.h comes from the Debian qemu source package, fetched by benchmarks/arm/build_plugin.sh.
    headers = sorted(Path.home().glob(".cache/emolite-arm/src/*/include/qemu/qemu-plugin.h"))
    if not headers:
        pytest.skip("qemu-plugin.h not fetched (make arm-check fetches it)")
    cflags = subprocess.run(
        ["pkg-config", "--cflags", "glib-2.0"], capture_output=True, text=True
    ).stdout.split()
    subprocess.run(
        [
            "gcc",
            "-shared",
            "-fPIC",
            "-Wall",
            "-Werror",
            f"-I{headers[0].parent}",
            *cflags,
            "-o",
            str(tmp_path / "p.so"),
            str(armcheck.ARM_DIR / "insn_marks.c"),
        ],
        check=True,
    )
    symbols = subprocess.run(["nm", "-D", str(tmp_path / "p.so")], capture_output=True, text=True).stdout
    assert " T qemu_plugin_install" in symbols and "qemu_plugin_version" in symbols  # what qemu looks up
