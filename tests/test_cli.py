"""The `emolite` command on the real default bundle."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from emolite.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_table(capsys):
    code, out, _ = run(capsys, "predict", "I am furious with you", "what a lovely day", "--labels", "ekman")
    assert code == 0
    assert "I am furious with you" in out and "what a lovely day" in out
    assert out.count("*") >= 2  # one decided label marked per text at least


def test_predict_json_lines_with_custom_labels(capsys):
    code, out, _ = run(capsys, "predict", "I am furious", "what a lovely day", "--labels", "anger,joy", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2
    assert rows[0]["labels"][0] == "anger" and rows[1]["labels"][0] == "joy"
    assert set(rows[0]) == {"line", "sequence", "labels", "scores", "predicted", "truncated"}


def test_stdin_gives_one_record_per_input_line(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("first line is happy\r\n\n   \nsecond line is sad\n"))
    code, out, _ = run(capsys, "predict", "-", "--json", "--top-k", "2")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["sequence"] == "first line is happy"  # CRLF stripped
    assert "error" in rows[1] and "error" in rows[2] and "sequence" not in rows[1]
    assert rows[3]["sequence"] == "second line is sad"
    assert all(len(r["labels"]) == 2 for r in (rows[0], rows[3]))


def test_dash_mixed_with_texts_is_an_error(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    code, out, err = run(capsys, "predict", "-", "a text")
    assert code == 2 and "cannot be mixed" in err and out == ""


def test_empty_stdin_says_so(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "predict", "-")
    assert code == 2 and "no input on stdin" in err


def test_one_custom_label_needs_no_comma_and_is_not_a_constant_softmax(capsys):
    code, out, err = run(capsys, "predict", "I am so happy", "this is awful", "--labels", "joy", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and all(r["labels"] == ["joy"] for r in rows)
    assert rows[0]["scores"][0] > rows[1]["scores"][0]  # sigmoid scores, not a softmax of one label (1.0)
    assert "one-label softmax is always 1.0" in err
    code, out, err = run(capsys, "predict", "I am so happy", "--labels", "joy", "--no-multi-label", "--json")
    assert json.loads(out)["scores"] == [1.0] and "always 1.0" in err


def test_a_typo_of_a_set_name_is_an_error_not_a_custom_label(capsys):
    code, out, err = run(capsys, "predict", "so happy", "--labels", "ekmann")
    assert code == 2 and "did you mean 'ekman'" in err and out == ""


def test_label_set_names_are_case_insensitive(capsys):
    code, out, _ = run(capsys, "predict", "what a lovely day", "--labels", "EKMAN", "--json")
    assert code == 0 and len(json.loads(out)["labels"]) == 7


def test_threshold_and_batch_size_options(capsys):
    texts = ["I am happy and grateful and excited", "so sad", "what?"]
    code, out, _ = run(capsys, "predict", *texts, "--threshold", "0.01", "--batch-size", "4", "--json")
    low = [json.loads(line) for line in out.splitlines()]
    code2, out, _ = run(capsys, "predict", *texts, "--threshold", "0.99", "--json")
    high = [json.loads(line) for line in out.splitlines()]
    assert code == code2 == 0
    assert all(len(r["predicted"]) >= 3 for r in low) and all(len(r["predicted"]) == 1 for r in high)
    code, _, err = run(capsys, "predict", "hi", "--threshold", "1.5")
    assert code == 2 and "threshold" in err
    code, _, err = run(capsys, "predict", "hi", "--labels", "carer-6", "--threshold", "0.3")
    assert code == 2 and "single-label" in err


def test_labels_thresholds(capsys, default_bundle):
    manifest = json.loads((default_bundle / "manifest.json").read_text())
    code, out, _ = run(capsys, "labels", "--thresholds", "--json")
    sets = {json.loads(line)["name"]: json.loads(line) for line in out.splitlines()}
    expected = dict(zip(manifest["label_sets"]["ekman"]["labels"], manifest["label_sets"]["ekman"]["thresholds"]))
    assert code == 0 and sets["ekman"]["thresholds"] == expected and sets["carer-6"]["thresholds"] is None
    code, out, _ = run(capsys, "labels", "--thresholds")
    assert f"anger >= {expected['anger']:.3f}" in out


def test_unknown_or_unavailable_backend_variable_is_an_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("EMOLITE_BACKEND", "cuda")
    code, _, err = run(capsys, "predict", "hi")
    assert code == 2 and "$EMOLITE_BACKEND is 'cuda'" in err
    from emolite.bundle import DEFAULT_BUNDLE, write_manifest

    onnx_only = tmp_path / "b"
    shutil.copytree(DEFAULT_BUNDLE, onnx_only)
    manifest = json.loads((onnx_only / "manifest.json").read_text())
    (onnx_only / manifest["formats"].pop("tflite")["file"]).unlink()
    manifest["golden"]["embeddings"].pop("tflite")
    manifest["preferred_backend"] = "onnx"
    write_manifest(onnx_only, manifest)
    monkeypatch.setenv("EMOLITE_BACKEND", "tflite")
    code, _, err = run(capsys, "predict", "hi", "--bundle", str(onnx_only))
    assert code == 2 and "asks for tflite" in err
    monkeypatch.setenv("EMOLITE_BACKEND", "ONNX")
    assert run(capsys, "predict", "hi", "--bundle", str(onnx_only))[0] == 0


def test_tflite_delegate_line_stays_off_stderr(tmp_path):
    code = "import emolite; emolite.load(backend='tflite').predict('so happy')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "XNNPACK" not in result.stderr and result.stderr == ""


def test_labels_lists_sets(capsys):
    code, out, _ = run(capsys, "labels", "--json")
    sets = {json.loads(line)["name"]: json.loads(line) for line in out.splitlines()}
    assert code == 0 and {"goemotions", "ekman", "sentiment"} <= set(sets)
    assert len(sets["goemotions"]["labels"]) == 28


def test_info_verifies(capsys, default_bundle):
    code, out, _ = run(capsys, "info", str(default_bundle), "--json")
    info = json.loads(out)
    assert code == 0 and info["verification"] == "ok"
    assert info["files"]["model.onnx"] == (default_bundle / "model.onnx").stat().st_size


def test_info_reports_corruption(capsys, default_bundle, tmp_path):
    bundle = tmp_path / "b"
    shutil.copytree(default_bundle, bundle)
    (bundle / "vocab.txt").write_text("tampered")
    code, out, _ = run(capsys, "info", str(bundle))
    assert code == 1 and "FAILED" in out


def test_errors_become_messages_not_tracebacks(capsys):
    code, _, err = run(capsys, "predict", "hello", "--labels", "semeval-12")
    assert code == 2 and "unknown label set 'semeval-12'" in err and "Traceback" not in err


def test_broken_pipe_is_quiet():
    exe = str(Path(sys.executable).parent / "emolite")
    result = subprocess.run(f"'{exe}' labels --thresholds | head -1", shell=True, capture_output=True, text=True)
    assert result.stdout.startswith("goemotions") and "Traceback" not in result.stderr


def test_console_script_installed():
    exe = str(Path(sys.executable).parent / "emolite")
    result = subprocess.run([exe, "predict", "so happy", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["sequence"] == "so happy"
