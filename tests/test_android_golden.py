"""The Android core's golden files must be what the Python SDK produces now (android_demo/tools/make_golden.py).

Token ids, code-point hashes and the generated Java Unicode tables must match exactly; probabilities to 1e-6
(BLAS summation order may differ between machines). Regenerate with
`.venv/bin/python android_demo/tools/make_golden.py` when the bundle or the tokenizer changes.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOL = REPO / "android_demo" / "tools" / "make_golden.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_golden", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def regenerated(clf) -> dict[Path, str]:
    return _load_tool().generate(clf=clf)


def drift(committed: object, fresh: object, where: str = "") -> list[str]:
    """Differences between two JSON values; floats may differ by 1e-6."""
    if isinstance(committed, dict) and isinstance(fresh, dict):
        if committed.keys() != fresh.keys():
            return [f"{where}: keys {sorted(committed)} != {sorted(fresh)}"]
        return [d for k in committed for d in drift(committed[k], fresh[k], f"{where}.{k}")]
    if isinstance(committed, list) and isinstance(fresh, list):
        if len(committed) != len(fresh):
            return [f"{where}: {len(committed)} items != {len(fresh)}"]
        return [d for i, (a, b) in enumerate(zip(committed, fresh)) for d in drift(a, b, f"{where}[{i}]")]
    if isinstance(committed, float) or isinstance(fresh, float):
        ok = isinstance(committed, (int, float)) and isinstance(fresh, (int, float))
        return (
            []
            if ok and math.isclose(committed, fresh, abs_tol=1e-6)
            else [f"{where}: {committed!r} != {fresh!r}"]
        )
    return [] if committed == fresh else [f"{where}: {committed!r:.80} != {fresh!r:.80}"]


def test_golden_files_match_the_sdk(regenerated):
    stale = []
    for path, text in regenerated.items():
        assert path.exists(), f"{path} is missing; run {TOOL.relative_to(REPO)}"
        committed = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            differences = drift(json.loads(committed), json.loads(text))
        else:
            differences = [] if committed == text else ["text differs"]
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
