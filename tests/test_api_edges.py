"""The API at its edges: types, progress, very long texts, saved label sets, prior adaptation, the stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import emolite
from emolite import errors, user_sets

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("EMOLITE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


# -- typing ----------------------------------------------------------------------------------------
def _mypy(tmp_path: Path, target: Path) -> subprocess.CompletedProcess:
    """mypy on `target` with the SDK importable as `emolite` (the editable install maps sdk/ to it)."""
    link = tmp_path / "path" / "emolite"
    if not link.exists():
        link.parent.mkdir()
        link.symlink_to(REPO / "sdk")
    env = {**os.environ, "MYPYPATH": str(link.parent)}
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
           "--cache-dir", str(tmp_path / "cache"), str(target)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)


def test_typed_example_passes_mypy_and_a_wrong_annotation_fails(tmp_path):
    ok = _mypy(tmp_path, REPO / "examples" / "typed_usage.py")
    assert ok.returncode == 0, ok.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("import emolite\nx: emolite.Prediction = emolite.load().predict(['a', 'b'])\n")
    result = _mypy(tmp_path, bad)
    assert result.returncode == 1 and 'has type "list[Prediction]"' in result.stdout


# -- results and the classifier ----------------------------------------------------------------------
def test_as_dict_maps_labels_to_scores_in_rank_order(clf):
    pred = clf.predict("I am furious", labels="ekman")
    mapping = pred.as_dict()
    assert list(mapping) == pred.labels and list(mapping.values()) == pred.scores
    assert next(iter(mapping)) == "anger"


def test_repr_names_bundle_backend_and_threads():
    clf = emolite.load(backend="onnx", threads=1)
    text = repr(clf)
    assert "emolite-distilled" in text and "backend='onnx'" in text and "threads=1" in text
    assert "batch_size=1" in text


def test_progress_callback_sees_every_text(clf):
    seen: list[tuple[int, int]] = []
    texts = [f"text number {i}" for i in range(7)]
    clf.predict(texts, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7) and [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == 7


def test_progress_bar_with_tqdm(clf, capsys):
    pytest.importorskip("tqdm")
    preds = clf.predict(["one", "two", "three"], progress=True)
    assert len(preds) == 3
    with pytest.raises(errors.InputTypeError, match="progress"):
        clf.predict(["one"], progress="yes")


def test_text_far_beyond_the_maximum_is_cut_first_and_flagged(clf):
    limit = clf.encoder.max_chars
    huge = "so angry today " * (10_000_000 // 15)
    ids, truncated = clf.encoder.encode([huge])
    assert truncated == [True] and len(ids[0]) == clf.bundle.max_seq_length
    cut_ids, _ = clf.encoder.encode([huge[:limit]])
    assert ids == cut_ids  # the model sees exactly what it saw before the cut
    assert clf.encoder.encode(["x" * (limit + 1)])[1] == [True]  # one long word, cut: still flagged


def test_threshold_override(clf):
    text = "I am grateful, proud and a little nervous"
    assert len(clf.predict(text, threshold=0.01).predicted) > len(clf.predict(text, threshold=0.9).predicted)
    with pytest.raises(errors.InvalidInputError, match="single-label"):
        clf.predict(text, labels="carer-6", threshold=0.5)
    with pytest.raises(errors.InputTypeError):
        clf.predict(text, threshold="0.5")


# -- saved label sets ------------------------------------------------------------------------------------
def test_saved_label_set_is_found_by_name_in_a_new_process(clf, home):
    saved = clf.add_label_set(
        "Work-Mood", ["stressed", "motivated", "bored"], descriptions={"bored": "weary from lack of interest"}
    )
    assert saved.labels == ("stressed", "motivated", "bored") and saved.prompts["bored"][-1].startswith("bored: ")
    pred = clf.predict("I am so stressed about work", labels="work-mood")
    assert pred.label_set == "Work-Mood" and pred.labels[0] == "stressed"
    words = clf.predict("I am so stressed about work", labels=["stressed", "motivated", "bored"])
    assert words.as_dict()["bored"] != pred.as_dict()["bored"]  # the description moved the row of "bored"
    code = "import emolite; print(emolite.load(backend='onnx').predict('this meeting is endless, nothing happens', labels='Work-Mood').labels[0])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "EMOLITE_HOME": str(home)})
    assert result.stdout.strip() == "bored"
    stored = json.loads((home / "label_sets.json").read_text())
    assert stored["sets"]["Work-Mood"]["labels"] == ["stressed", "motivated", "bored"]


def test_saving_keeps_other_sets_and_refuses_bad_input(clf, home):
    clf.add_label_set("a", ["calm", "tense"])
    clf.add_label_set("b", ["hope", "dread"], multi_label=True, threshold=0.4)
    assert set(user_sets.load_all()) == {"a", "b"}
    assert clf.predict("I hope it works out", labels="b").multi_label is True
    for bad in (dict(name="ekman", labels=["x", "y"]), dict(name="c", labels=["x", "X"]),
                dict(name="c", labels=[]), dict(name="c,d", labels=["x", "y"]), dict(name="c", labels=["x"], threshold=2)):
        with pytest.raises(errors.InvalidInputError):
            clf.add_label_set(**bad)
    with pytest.raises(errors.InputTypeError):
        clf.add_label_set("c", ["x", 3])
    assert set(user_sets.load_all()) == {"a", "b"}
    assert user_sets.remove("a") and set(user_sets.load_all()) == {"b"}


def test_a_corrupt_store_is_refused_and_kept(clf, home):
    home.mkdir(parents=True)
    store = home / "label_sets.json"
    store.write_text('{"format": "emolite-label-sets", "version": 1, "sets": {"x": {"labels": [1]}}}')
    before = store.read_bytes()
    with pytest.raises(user_sets.LabelStoreError, match="labels"):
        clf.add_label_set("y", ["calm", "tense"])
    with pytest.raises(user_sets.LabelStoreError):
        clf.predict("hello", labels="x")
    assert store.read_bytes() == before


# -- label-free prior adaptation ------------------------------------------------------------------------
def test_adapt_lowers_the_labels_the_domain_overuses(clf):
    domain = ["I am so sad", "this is heartbreaking", "I cried all night", "such a sad day", "I miss him"]
    probe = "the bus comes at nine"
    adapted = clf.adapt(domain, labels="carer-6")
    before, after = clf.scores(probe, "carer-6"), adapted.scores(probe, "carer-6")
    sadness = list(clf.bundle.label_set("carer-6").labels).index("sadness")
    priors = clf.scores(domain, "carer-6").mean(axis=0)
    assert priors.argmax() == sadness
    assert after[sadness] < before[sadness]  # the over-used label loses weight...
    ratio = after.astype(np.float64) / before  # divided by its prior, renormalised: ratio * prior is constant
    np.testing.assert_allclose(ratio * priors / (ratio * priors).mean(), 1.0, rtol=2e-3)
    np.testing.assert_allclose(clf.scores(probe, "carer-6"), before)  # ...in the copy only
    same = clf.adapt(domain, labels="carer-6", strength=0.0)
    np.testing.assert_allclose(same.scores(probe, "carer-6"), before, atol=1e-6)
    assert adapted.scores(probe, "ekman").tolist() == clf.scores(probe, "ekman").tolist()  # other sets untouched


def test_adapt_refuses_bad_input(clf):
    with pytest.raises(errors.InvalidInputError):
        clf.adapt([], labels="carer-6")
    with pytest.raises(errors.InvalidInputError):
        clf.adapt(["a text"], strength=2)
    with pytest.raises(errors.InputTypeError):
        clf.adapt([None])


# -- the stream command ------------------------------------------------------------------------------------
def _stream(*args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).parent / "emolite")
    return subprocess.run([exe, "stream", *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def test_stream_json_honours_top_k_and_keeps_line_numbers():
    result = _stream("--json", "--top-k", "2", "--labels", "ekman", stdin="I am furious\n\nwhat a lovely day\n")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0 and [r["line"] for r in rows] == [1, 2, 3]
    assert len(rows[0]["labels"]) == 2 and rows[0]["labels"][0] == "anger" and "error" in rows[1]


def test_stream_refuses_a_missing_file_or_bad_labels_before_reading(tmp_path):
    result = _stream(str(tmp_path / "nope.txt"))
    assert result.returncode == 2 and "no such file" in result.stderr and "reading lines" not in result.stderr
    result = _stream("--labels", "joy,Joy", stdin="never read\n")
    assert result.returncode == 2 and "duplicates" in result.stderr and result.stdout == ""
    result = _stream("--labels", "ekmann", stdin="never read\n")
    assert result.returncode == 2 and "did you mean" in result.stderr


def test_follow_joins_a_line_written_in_two_parts(tmp_path):
    log = tmp_path / "chat.log"
    log.write_text("")
    exe = str(Path(sys.executable).parent / "emolite")
    proc = subprocess.Popen([exe, "stream", str(log), "--follow", "--json", "--labels", "ekman"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while b"reading lines" not in (proc.stderr.readline() or "").encode():
            pass
        with open(log, "a") as f:
            f.write("I am absolutely furi")
            f.flush()
            time.sleep(0.6)  # the reader sees the first half alone
            f.write("ous with you\n")
            f.flush()
        line = _read_line(proc, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    record = json.loads(line)
    assert record["sequence"] == "I am absolutely furious with you" and record["labels"][0] == "anger"


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert box and box[0], "no output from emolite stream --follow"
    return box[0]
