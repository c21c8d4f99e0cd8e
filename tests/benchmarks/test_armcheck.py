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


def test_recorded_run_is_not_identical_to_x86_but_passes_on_decisions_and_fp32(recorded):
    """The recorded A76 run: same decisions, the long text at cosine 0.99738 to x86 (under the golden-vector
    bar). x86's own vectors stand in for fp32 here, so the guest's gap to x86 is its cosine to x86 minus 1."""
    reference, guest, _ = recorded
    assert guest["machine"] == "aarch64" and reference["machine"] == "x86_64"
    result = armcheck.compare(reference, guest, fp32=reference["embeddings"])
    assert result["texts"] == 3 and result["same_decisions"] is True and result["decision_mismatches"] == []
    assert result["top_label_agreement"] == 3 and result["predicted_agreement"] == 3
    assert result["cosines"][:2] == [1.0, 1.0]
    assert result["min_cosine"] == 0.99738 and result["worst_text"].startswith("I have been thinking")
    assert result["below_identical"] == 1 and result["identical"] is False  # reported, not gated
    probe = result["cosine_to_fp32"]["probe_texts"]
    assert probe["x86_min"] == 1.0 and probe["guest_min"] == 0.99738
    assert probe["max_abs_gap"] == 0.00262 and probe["worst"].startswith("I have been thinking")
    assert result["cosine_to_fp32"]["label_rows"] is None
    assert result["passed"] is True and "same decisions as x86" in result["verdict"]
    assert (
        armcheck.compare(reference, guest, fp32=reference["embeddings"], tolerance=0.002)["passed"] is False
    )


def test_without_an_fp32_reference_the_check_fails_and_says_so(recorded):
    reference, guest, _ = recorded
    result = armcheck.compare(reference, guest)
    assert result["passed"] is False and "no fp32 reference" in result["verdict"]


def test_a_differing_decision_fails(recorded):
    reference, guest, _ = recorded
    fp32 = reference["embeddings"]
    top = {**guest, "top_labels": ["anger"] + guest["top_labels"][1:]}
    result = armcheck.compare(reference, top, fp32=fp32)
    assert result["decision_mismatches"] == ["ok"] and result["identical"] is False
    assert result["passed"] is False and "decisions differ from x86 on 1 probe text" in result["verdict"]
    decided = {**guest, "predicted": guest["predicted"][:2] + [["remorse", "sadness"]]}
    assert armcheck.compare(reference, decided, fp32=fp32)["passed"] is False
    reordered = {**reference, "predicted": [["a", "b"]] + reference["predicted"][1:]}
    same_set = {**guest, "predicted": [["b", "a"]] + guest["predicted"][1:]}
    assert (
        armcheck.compare(reordered, same_set, fp32=fp32)["passed"] is True
    )  # a set: order is not a decision
    with pytest.raises(ValueError, match="different probe texts"):
        armcheck.compare(reference, {**guest, "texts": ["x", "y", "z"]})


def test_a_differing_decision_is_shown_against_its_threshold(recorded):
    """With the runs' probabilities and thresholds, the verdict says how far from the boundary x86 was."""
    reference, guest, _ = recorded
    probs = [{"remorse": 0.3, "sadness": 0.2290}] * 3
    thresholds = {"remorse": 0.25, "sadness": 0.2290}
    x86 = {**reference, "probabilities": probs, "thresholds": thresholds}
    x86["predicted"] = reference["predicted"][:2] + [["remorse", "sadness"]]
    arm = {**guest, "probabilities": probs[:2] + [{"remorse": 0.31, "sadness": 0.228995}]}
    arm["predicted"] = guest["predicted"][:2] + [["remorse"]]
    result = armcheck.compare(x86, arm, fp32=reference["embeddings"])
    (row,) = result["decision_differences"]
    assert row["text"] == reference["texts"][2] and result["decision_mismatches"] == [row["text"]]
    assert row["labels"] == [
        {
            "label": "sadness",
            "decided_on": "x86",
            "x86": 0.229,
            "arm": 0.228995,
            "threshold": 0.229,
            "x86_margin": 0.0,
        }
    ]
    assert result["passed"] is False and row["on_boundary"] is False  # no scale recorded: no band
    assert result["label_scores"] is None
    assert "sadness x86 0.22900 / ARM 0.22900, threshold 0.22900" in result["verdict"]
    # a recording without probabilities still names the label
    plain = armcheck.decision_differences(
        reference, {**guest, "predicted": guest["predicted"][:2] + [["joy"]]}
    )
    assert plain[0]["labels"][0]["label"] == "joy" and "x86" not in plain[0]["labels"][0]


def _scored(run: dict, probs: list[dict], predicted: list[list[str]], top: list[str] | None = None) -> dict:
    """A run with per-text probabilities of a two-label multi-label set at scale 10 (thresholds 0.3)."""
    return {
        **run,
        "probabilities": probs,
        "predicted": predicted,
        "top_labels": top or [max(p, key=p.get) for p in probs],
        "thresholds": {"joy": 0.3, "sadness": 0.3},
        "logit_scale": 10.0,
        "multi_label": True,
    }


def _p(cosine_offset: float, threshold: float = 0.3, scale: float = 10.0) -> float:
    """The probability `cosine_offset` (cosine units) above `threshold` at `scale`."""
    return float(1 / (1 + np.exp(-(np.log(threshold / (1 - threshold)) + scale * cosine_offset))))


def test_a_decision_at_x86s_boundary_is_listed_not_failed(recorded):
    """Sadness sits 0.004 (cosine units) over its threshold on x86 and 0.002 under it on ARM: the score moved
    0.006, inside the band, so the changed decision is listed in the verdict and does not fail it; at 0.015
    over the threshold the same change fails, and so does a score that moved more than the band."""
    reference, guest, _ = recorded
    fp32, texts = reference["embeddings"], reference["texts"]
    keep = [{"joy": 0.9, "sadness": 0.1}] * 2
    x86 = _scored(
        reference, keep + [{"joy": 0.9, "sadness": _p(0.004)}], [["joy"]] * 2 + [["joy", "sadness"]]
    )
    arm = _scored(guest, keep + [{"joy": 0.9, "sadness": _p(-0.002)}], [["joy"]] * 3)
    near = armcheck.compare(x86, arm, fp32=fp32)
    (row,) = near["decision_differences"]
    assert row["on_boundary"] is True and row["labels"][0]["x86_margin_cosine"] == pytest.approx(
        0.004, abs=1e-6
    )
    assert near["decision_mismatches"] == [] and near["on_boundary"] == 1 and near["identical"] is False
    assert near["label_scores"]["max_abs_gap"] == pytest.approx(0.006, abs=1e-6)
    assert near["label_scores"]["worst_text"] == texts[2] and near["label_scores"]["worst_label"] == "sadness"
    assert (
        near["passed"] is True and f"1 within {armcheck.BOUNDARY_COSINE} of x86's boundary" in near["verdict"]
    )
    assert "sadness x86 0.30" in near["verdict"]

    band = armcheck.BOUNDARY_COSINE
    x86_far = _scored(x86, keep + [{"joy": 0.9, "sadness": _p(band + 0.005)}], x86["predicted"])
    arm_far = _scored(
        arm, keep + [{"joy": 0.9, "sadness": _p(band - 0.002)}], x86["predicted"][:2] + [["joy"]]
    )
    far = armcheck.compare(x86_far, arm_far, fp32=fp32)
    assert far["decision_mismatches"] == [texts[2]] and far["passed"] is False
    assert "decisions differ from x86 on 1 probe text" in far["verdict"]

    moved = _scored(arm, keep + [{"joy": 0.9, "sadness": _p(0.004 - band - 0.001)}], arm["predicted"])
    result = armcheck.compare(x86, moved, fp32=fp32)
    assert result["passed"] is False and "a label score differs from x86's by" in result["verdict"]
    assert armcheck.compare(x86, moved, fp32=fp32, band=2 * band)["passed"] is True


def test_a_top_label_change_at_a_near_tie_is_listed(recorded):
    """The top label changes between two labels 0.003 apart (cosine units) on x86: a near tie, listed; the
    same change between labels 0.05 apart fails (it also moves a score beyond the band)."""
    reference, guest, _ = recorded
    fp32 = reference["embeddings"]
    keep = [{"joy": 0.9, "sadness": 0.1}] * 2
    tie = {"joy": _p(0.103), "sadness": _p(0.1)}
    x86 = _scored(reference, keep + [tie], [["joy"]] * 2 + [["joy", "sadness"]])
    arm = _scored(guest, keep + [{"joy": _p(0.1), "sadness": _p(0.102)}], x86["predicted"])
    near = armcheck.compare(x86, arm, fp32=fp32)
    (row,) = near["decision_differences"]
    assert (row["x86_top"], row["arm_top"]) == ("joy", "sadness")
    assert row["x86_top_gap_cosine"] == pytest.approx(0.003, abs=1e-6) and row["on_boundary"] is True
    assert near["passed"] is True and "top label x86 'joy' vs ARM 'sadness'" in near["verdict"]
    apart = _scored(x86, keep + [{"joy": _p(0.15), "sadness": _p(0.1)}], x86["predicted"])
    assert armcheck.compare(apart, arm, fp32=fp32)["passed"] is False


def _unit(rows: np.ndarray) -> list:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).tolist()


def _at(cosine: float, direction: int, n: int = 3) -> list:
    """n copies of a unit vector at `cosine` to e0, tilted towards e_direction (dimension 4)."""
    vec = cosine * np.eye(4)[0] + np.sqrt(1 - cosine**2) * np.eye(4)[direction]
    return np.tile(vec, (n, 1)).tolist()


def _run(embeddings: list, texts: list[str], label_rows: dict | None = None) -> dict:
    run = {
        "texts": texts,
        "embeddings": embeddings,
        "top_labels": ["joy"] * len(texts),
        "predicted": [["joy"]] * len(texts),
    }
    if label_rows is not None:
        run["label_rows"] = label_rows
    return run


def test_verdict_on_constructed_runs():
    """fp32 = e0 on every text, x86 at cosine 0.99 to it; the verdict looks at decisions and at each side's
    cosine to fp32, never at the cosine between ARM and x86."""
    texts = ["a", "b", "c"]
    fp32 = np.tile(np.eye(4)[0], (3, 1))
    ref = _run(_at(0.99, 1), texts)

    # as close to fp32 as x86 but in another direction: cosine 0.98 to x86, and it passes
    elsewhere = armcheck.compare(ref, _run(_at(0.99, 2), texts), fp32=fp32)
    assert elsewhere["min_cosine"] == pytest.approx(0.9801, abs=1e-4) and elsewhere["identical"] is False
    assert elsewhere["cosine_to_fp32"]["probe_texts"]["max_abs_gap"] == 0.0
    assert elsewhere["passed"] is True

    # 0.004 farther from fp32 than x86: passes; 0.006 farther or closer: fails
    assert armcheck.compare(ref, _run(_at(0.986, 1), texts), fp32=fp32)["passed"] is True
    farther = armcheck.compare(ref, _run(_at(0.984, 1), texts), fp32=fp32)
    assert farther["cosine_to_fp32"]["probe_texts"]["max_abs_gap"] == 0.006
    assert farther["passed"] is False and "differs from x86's by 0.006000 > 0.005" in farther["verdict"]
    closer = armcheck.compare(ref, _run(_at(0.996, 1), texts), fp32=fp32)
    assert closer["passed"] is False  # both ways: much closer to fp32 than x86 is as suspect

    # one text of three off is enough: per text, not the mean
    one_off = _run(_at(0.99, 1)[:2] + _at(0.984, 1)[:1], texts)
    assert armcheck.compare(ref, one_off, fp32=fp32)["passed"] is False

    broken = armcheck.compare(ref, _run(_unit(np.tile(np.eye(4)[3], (3, 1))), texts), fp32=fp32)
    assert broken["passed"] is False  # a wrong kernel: unrelated vectors


def test_label_rows_are_an_fp32_reference():
    """The bundle's fp32 label rows judge the re-embedded rows the same way, label by label."""
    texts = ["a"]
    fp32_rows = {"joy": np.eye(4)[0].tolist(), "anger": np.eye(4)[1].tolist()}
    x86_rows = {"joy": _at(0.99, 2, 1)[0], "anger": [0.0, 0.99, np.sqrt(1 - 0.99**2), 0.0]}
    ref = _run(_at(0.99, 1, 1), texts, x86_rows)
    near = {"joy": _at(0.988, 3, 1)[0], "anger": x86_rows["anger"]}
    ok = armcheck.compare(ref, _run(_at(0.99, 1, 1), texts, near), fp32_rows=fp32_rows)
    assert ok["cosine_to_fp32"]["probe_texts"] is None
    assert ok["cosine_to_fp32"]["label_rows"]["items"] == 2
    assert ok["cosine_to_fp32"]["label_rows"]["max_abs_gap"] == 0.002 and ok["passed"] is True
    assert "2 label rows (max gap 0.002000)" in ok["verdict"]

    off = {"joy": _at(0.984, 3, 1)[0], "anger": x86_rows["anger"]}
    bad = armcheck.compare(ref, _run(_at(0.99, 1, 1), texts, off), fp32_rows=fp32_rows)
    assert bad["passed"] is False and "label rows" in bad["verdict"] and "'joy'" in bad["verdict"]
    # both references: either one failing fails the row
    both = armcheck.compare(ref, _run(_at(0.99, 1, 1), texts, off), fp32=[[1, 0, 0, 0]], fp32_rows=fp32_rows)
    assert both["cosine_to_fp32"]["probe_texts"]["max_abs_gap"] == 0.0 and both["passed"] is False
    with pytest.raises(ValueError, match="label rows"):
        armcheck.compare(ref, _run(_at(0.99, 1, 1), texts), fp32_rows=fp32_rows)


def test_verdict_rule_as_a_pure_function():
    within = {"items": 3, "max_abs_gap": 0.005, "worst": "a", "worst_x86": 0.99, "worst_guest": 0.985}
    beyond = {**within, "max_abs_gap": 0.006, "worst_guest": 0.984}
    assert (
        armcheck.verdict([], {"probe_texts": within, "label_rows": None})[0] is True
    )  # the bar is inclusive
    assert armcheck.verdict([], {"probe_texts": None, "label_rows": within})[0] is True
    assert armcheck.verdict([], {"probe_texts": beyond, "label_rows": within})[0] is False
    assert armcheck.verdict([], {"probe_texts": within, "label_rows": beyond})[0] is False
    assert armcheck.verdict(["a"], {"probe_texts": within, "label_rows": within})[0] is False
    passed, why = armcheck.verdict([], {"probe_texts": None, "label_rows": None})
    assert passed is False and "no fp32 reference" in why
    assert armcheck.FP32_TOLERANCE == 0.005


def test_a_backend_not_run_everywhere_fails_the_check():
    ok = {"comparison": {"passed": True}}
    assert armcheck.check_passed([ok, ok], []) is True
    assert (
        armcheck.check_passed([ok], [{"backend": "onnx", "cpu": "x86", "reason": "x86 reference failed"}])
        is False
    )
    assert armcheck.check_passed([ok, {"comparison": {"passed": False}}], []) is False
    assert armcheck.check_passed([], []) is False


def test_fp32_label_rows_come_from_the_bundle(default_bundle):
    name, prompts, rows = armcheck.fp32_label_rows(str(default_bundle))
    manifest = json.loads((default_bundle / "manifest.json").read_text())
    meta = manifest["label_sets"][manifest["default_label_set"]]
    assert name == manifest["default_label_set"] and meta["source"] == "fp32"
    assert list(prompts) == list(rows) == meta["labels"] and prompts == meta["prompts"]
    assert len(rows[meta["labels"][0]]) == manifest["encoder"]["embedding_dim"]


def test_estimate_arithmetic():
    assert armcheck.estimate_ms(1e9, ipc=1.0, clock_ghz=1.0) == pytest.approx(1000.0)
    assert armcheck.estimate_ms(57e6, ipc=1.25, clock_ghz=1.8) == pytest.approx(57e6 / 2.25e9 * 1e3)
    # the calibration closes: the anchor's instructions at the A72's IPC and the anchor's clock take the anchor's ms
    a72 = armcheck.PI_CORES["cortex-a72"]
    assert armcheck.estimate_ms(armcheck.ANCHOR_INSTRUCTIONS, a72["ipc"], armcheck.ANCHOR_CLOCK_GHZ) == (
        pytest.approx(armcheck.ANCHOR_MS)
    )
    assert a72["ipc"] == pytest.approx(67e6 / (0.034 * 1.8e9))
    a76 = armcheck.PI_CORES["cortex-a76"]
    assert a76["ipc"] == pytest.approx(a72["ipc"] * armcheck.A76_OVER_A72_IPC)

    counts = {"e2e": 57_000_000, "model_L16": 52_000_000, "model_L64": 211_000_000, "import_and_load": 2e9}
    pi4 = armcheck.pi_estimate("cortex-a72", counts)
    assert [e["clock_ghz"] for e in pi4] == [1.8, 1.5] and {e["device"] for e in pi4} == {"Raspberry Pi 4"}
    assert pi4[0]["ms"]["e2e"] == round(57e6 / (a72["ipc"] * 1.8e9) * 1e3, 1) == 28.9
    assert pi4[1]["ms"]["e2e"] == 34.7 and set(pi4[0]["ms"]) == set(armcheck.REGIONS)
    assert all(e["kind"] == "estimate" for e in pi4)
    (pi5,) = armcheck.pi_estimate("cortex-a76", {"e2e": 30_000_000})
    assert pi5["device"] == "Raspberry Pi 5" and pi5["clock_ghz"] == 2.4
    assert pi5["ms"] == {"e2e": round(30e6 / (a76["ipc"] * 2.4e9) * 1e3, 1)}
    assert armcheck.pi_estimate("neoverse-n1", counts) is None
    assert "estimate, not a measurement" in armcheck.ESTIMATE_METHOD and "IPC" in armcheck.ESTIMATE_METHOD


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
    counts = armcheck.instruction_counts(marks, guest["regions"])
    row = {
        "cpu": "cortex-a76",
        "backend": "onnx",
        "comparison": armcheck.compare(reference, guest, fp32=reference["embeddings"]),
        "instructions": counts,
        "estimate": armcheck.pi_estimate("cortex-a76", counts),
    }
    table = armcheck.summarize([row])
    header, rule, body, *estimate = table.splitlines()
    assert body.startswith(
        "| cortex-a76 | onnx | 3 | - | yes | 0 | 3/3 | 3/3 | 0.002620 (3) | - | 0.997380 | no | 30 M |"
    )
    assert body.endswith("| yes |")
    assert header.count("|") == rule.count("|") == body.count("|") == 18
    assert "estimate, not a measurement" in estimate[1] and "IPC" in estimate[1]
    pi5 = estimate[-1]
    assert pi5.startswith("| Raspberry Pi 5 | cortex-a76 | 2.4 GHz | 1.64 | onnx | ~")
    assert estimate[-3].count("|") == pi5.count("|") == 9
    assert "Estimated" not in armcheck.summarize([{k: v for k, v in row.items() if k != "estimate"}])


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


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_probe_runs_on_the_host(tmp_path, backend):
    name, prompts, rows = armcheck.fp32_label_rows(None)
    two = dict(list(prompts.items())[:2])
    cfg = {
        "bundle": None,
        "backend": backend,
        "texts": ["ok", "so happy"],
        "repeats": 1,
        "region_text": "hi there",
        "label_prompts": two,
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
    assert len(out["probabilities"]) == 2 and len(out["probabilities"][0]) == len(out["thresholds"]) == 28
    assert all(0 < p < 1 for p in out["probabilities"][1].values())
    assert set(out["regions"]) == set(armcheck.REGIONS)
    # the set's scale, so that logit gaps read as cosine gaps: the run compared with itself moves nothing
    manifest = json.loads((armcheck.REPO / "sdk/bundles/default/manifest.json").read_text())
    default_set = manifest["label_sets"][manifest["default_label_set"]]
    assert out["logit_scale"] == pytest.approx(default_set["logit_scale"]) and out["multi_label"] is True
    assert armcheck.score_gaps(out, out)["max_abs_gap"] == 0.0
    # the int8 backend re-embeds the fp32 label rows closely: the reference is reproducible
    assert list(out["label_rows"]) == list(two)
    cos = armcheck.cosines([rows[label] for label in two], list(out["label_rows"].values()))
    assert cos.min() > 0.99


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
