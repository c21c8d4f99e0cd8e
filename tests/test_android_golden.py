"""The Android core's golden files must be what the Python SDK produces now (android_demo/tools/make_golden.py).

Token ids, code-point hashes and the generated Java Unicode tables must match exactly; probabilities and the
base64 float32 vectors to 1e-6 (numpy's and BLAS's summation order differs between CPUs, so a vector's last bits
do too). Regenerate with
`.venv/bin/python android_demo/tools/make_golden.py` when the bundle or the tokenizer changes.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "android_demo" / "tools" / "make_golden.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_golden", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL_MODULE = _load_tool()
drift = TOOL_MODULE.drift


@pytest.fixture(scope="module")
def regenerated(clf) -> dict[Path, str]:
    return TOOL_MODULE.generate(clf=clf)


def test_golden_files_match_the_sdk(regenerated):
    stale = []
    for path, text in regenerated.items():
        assert path.exists(), f"{path} is missing; run {TOOL.relative_to(REPO)}"
        differences = TOOL_MODULE.differences(path, path.read_text(encoding="utf-8"), text)
        if differences:
            stale.append(f"{path.relative_to(REPO)}: {differences[:3]}")
    assert not stale, (
        f"golden data drifted from the SDK; rerun .venv/bin/python {TOOL.relative_to(REPO)}: {stale}"
    )


def test_golden_covers_the_issue_minimum(regenerated):
    tokens = json.loads(next(t for p, t in regenerated.items() if p.name == "tokens.json"))
    scoring = json.loads(next(t for p, t in regenerated.items() if p.name == "scoring.json"))
    assert len(tokens["cases"]) >= 300
    assert any(c["truncated"] for c in tokens["cases"]) and any(c["blank"] for c in tokens["cases"])
    label_files = {f.removeprefix("labels/").removesuffix(".f32") for f in scoring["source"]["files"]}
    assert {
        c["label_set"] for c in scoring["cases"]
    } == label_files  # every label set of the bundle is scored
    assert {c["multi_label"] for c in scoring["cases"]} == {True, False}


def test_drift_detects_a_changed_id_and_score():
    committed = {"cases": [{"ids": [101, 7592, 102], "scores": [0.25]}]}
    assert drift(committed, committed) == []
    assert drift(committed, {"cases": [{"ids": [101, 7593, 102], "scores": [0.25]}]})
    assert drift(committed, {"cases": [{"ids": [101, 7592, 102], "scores": [0.2501]}]})
    assert drift(committed, {"cases": [{"ids": [101, 7592, 102], "scores": [0.2500001]}]}) == []


def test_drift_reads_vectors_as_floats_not_bytes():
    def b64(values: list[float]) -> str:
        return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")

    vector = [0.0625, -0.125, 0.3]
    last_bit = np.nextafter(np.float32(0.3), np.float32(1.0))  # what another CPU's summation order gives
    assert b64(vector) != b64([0.0625, -0.125, last_bit])
    assert drift({"v": b64(vector)}, {"v": b64([0.0625, -0.125, last_bit])}) == []
    assert drift({"v": b64(vector)}, {"v": b64([0.0625, -0.125, 0.301])})
    assert drift({"v": b64(vector)}, {"v": b64(vector[:2])})
    assert drift({"text": "abcd"}, {"text": "abce"})  # words are compared as words
