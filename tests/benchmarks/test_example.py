"""The Raspberry Pi example app (examples/pi_emotion_stream.py): SDK only, real model."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "examples" / "pi_emotion_stream.py"


def _load_app():
    spec = importlib.util.spec_from_file_location("pi_emotion_stream", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stream_from_stdin_prints_one_line_per_text():
    lines = "I can't believe I won the lottery!\n\n   \nMy dog died this morning.\n"
    proc = subprocess.run(
        [sys.executable, str(APP), "--labels", "ekman"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip().splitlines()
    assert len(out) == 2  # blank lines are skipped
    assert out[0].endswith("I can't believe I won the lottery!") and " ms  " in out[0]
    assert "sadness" in out[1]


def test_json_lines_and_custom_labels(tmp_path):
    f = tmp_path / "chat.log"
    f.write_text("thank you so much for the help\nthis is a disaster\n")
    proc = subprocess.run(
        [sys.executable, str(APP), str(f), "--json", "--labels", "gratitude,anger,fear"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["sequence"] for r in rows] == ["thank you so much for the help", "this is a disaster"]
    assert sorted(rows[0]["labels"]) == ["anger", "fear", "gratitude"] and rows[0]["predicted"] == [
        "gratitude"
    ]
    # the pipeline's shape plus the time of that text's prediction
    assert all(set(r) == {"sequence", "labels", "scores", "predicted", "ms"} for r in rows)
    assert all(r["scores"] == sorted(r["scores"], reverse=True) for r in rows)


def test_follow_yields_appended_lines(tmp_path):
    app = _load_app()
    f = tmp_path / "live.log"
    f.write_text("first\n")
    with open(f, encoding="utf-8") as stream:
        lines = app.follow(stream, poll_s=0.01)
        assert next(lines) == "first\n"
        with open(f, "a", encoding="utf-8") as w:
            w.write("second\n")
        assert next(lines) == "second\n"


def test_app_imports_only_the_sdk():
    source = APP.read_text()
    imports = {
        line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "argparse", "json", "sys", "time", "collections", "typing", "emolite"}
