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
    assert set(rows[0]) == {"sequence", "labels", "scores", "predicted", "truncated"}


def test_predict_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("first line is happy\n\nsecond line is sad\n"))
    code, out, _ = run(capsys, "predict", "-", "--json", "--top-k", "2")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["sequence"] for r in rows] == ["first line is happy", "second line is sad"]
    assert all(len(r["labels"]) == 2 for r in rows)


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
    code, _, err = run(capsys, "predict", "hello", "--labels", "nosuchset")
    assert code == 2 and "unknown label set 'nosuchset'" in err and "Traceback" not in err


def test_console_script_installed():
    exe = str(Path(sys.executable).parent / "emolite")
    result = subprocess.run([exe, "predict", "so happy", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["sequence"] == "so happy"
