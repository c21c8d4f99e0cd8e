"""`emolite stream`, the Raspberry Pi emotion stream, as a pip user runs it: a command of the package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from emolite.stream import follow

EXE = str(Path(sys.executable).parent / "emolite")


def test_table_from_stdin_one_line_per_text():
    lines = "I can't believe I won the lottery!\n\n   \nMy dog died this morning.\n"
    proc = subprocess.run([EXE, "stream", "--labels", "ekman"], input=lines, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip().splitlines()
    assert len(out) == 2  # blank lines are skipped in the table
    assert out[0].endswith("I can't believe I won the lottery!") and " ms  " in out[0]
    assert "sadness" in out[1]


def test_json_lines_from_a_file_with_custom_labels(tmp_path):
    f = tmp_path / "chat.log"
    f.write_text("thank you so much for the help\r\nthis is a disaster\n")
    proc = subprocess.run([EXE, "stream", str(f), "--json", "--labels", "gratitude,anger,fear"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["sequence"] for r in rows] == ["thank you so much for the help", "this is a disaster"]
    assert rows[0]["predicted"] == ["gratitude"] and sorted(rows[0]["labels"]) == ["anger", "fear", "gratitude"]
    assert all(set(r) == {"line", "sequence", "labels", "scores", "predicted", "truncated", "ms"} for r in rows)
    assert all(r["scores"] == sorted(r["scores"], reverse=True) for r in rows)


def test_follow_yields_complete_lines_only(tmp_path):
    f = tmp_path / "live.log"
    f.write_text("first\nsec")
    done = []
    with open(f, encoding="utf-8") as stream:
        lines = follow(stream, poll_s=0.01, stop=lambda: bool(done))
        assert next(lines) == "first\n"
        with open(f, "a", encoding="utf-8") as w:
            w.write("ond half\n")
        assert next(lines) == "second half\n"
        with open(f, "a", encoding="utf-8") as w:
            w.write("no newline yet")
        done.append(True)
        assert next(lines) == "no newline yet"  # flushed when the stream stops


def test_stream_module_imports_only_the_sdk():
    import ast

    import emolite.stream as module

    tree = ast.parse(Path(module.__file__).read_text())
    names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {n for n in names if n.startswith(("torch", "emolite.distill", "emolite.export"))}
