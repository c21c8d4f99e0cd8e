"""The annotation store (real SQLite) and the GoEmotions GPT-4 import (real data in ../shared/data)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from emolite.cli import main
from emolite.distill.store import MIGRATIONS, AnnotationStore, Record, StoreError


def _rec(i: str, status: str = "done", **kw) -> Record:
    base = {
        "id": i,
        "text": f"text {i}",
        "teacher": "t",
        "prompt_version": "descriptors-v1",
        "mode": "descriptors",
        "status": status,
    }
    if status == "done":
        base["descriptors"] = ["joy"]
    else:
        base["error"] = "refusal: no"
    return Record(**{**base, **kw})


def test_migrations_wal_and_schema(tmp_path):
    path = tmp_path / "s.sqlite"
    store = AnnotationStore(path)
    assert store.migrations() == [m.__name__ for m in MIGRATIONS] == ["m001_initial", "m002_batches"]
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.migrate() == []  # nothing left to apply
    store.close()
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(annotations)")]
    assert not [c for c in cols if "key" in c or "auth" in c]
    pk = [r[1] for r in sorted(db.execute("PRAGMA table_info(annotations)"), key=lambda r: r[5]) if r[5]]
    assert pk == ["text_id", "teacher", "prompt_version"]


def test_upsert_accumulates_tries_and_tokens(tmp_path):
    store = AnnotationStore(tmp_path / "s.sqlite")
    store.save(_rec("a", "failed", attempts=2, usage={"prompt_tokens": 10, "completion_tokens": 3}))
    store.save(_rec("a", "done", attempts=1, usage={"prompt_tokens": 11, "completion_tokens": 4}))
    (rec,) = store.records(status="all")
    assert (rec.status, rec.error, rec.descriptors, rec.attempts) == ("done", None, ["joy"], 3)
    assert rec.usage == {"prompt_tokens": 21, "completion_tokens": 7}
    assert store.stats()["rows"] == 1


def test_records_filters_and_contract(tmp_path):
    store = AnnotationStore(tmp_path / "s.sqlite")
    store.save_many(
        [
            _rec("a"),
            _rec("b", "failed"),
            _rec("c", teacher="u"),
            _rec("d", mode="labels", prompt_version="labels-v1:ekman", descriptors=[], labels=["joy"]),
        ]
    )
    assert [r.id for r in store.records()] == ["a", "c", "d"]
    assert [r.id for r in store.records(status="failed")] == ["b"]
    assert [r.id for r in store.records(status="all", teacher="t", mode="descriptors")] == ["a", "b"]
    (d,) = store.records(mode="labels")
    assert (d.labels, d.descriptors, d.error) == (["joy"], [], None)
    assert store.statuses("t", "descriptors-v1") == {"a": "done", "b": "failed"}
    with pytest.raises(ValueError, match="done"):
        list(store.records(status="ok"))
    with pytest.raises(ValueError):
        store.save(_rec("e", status="pending"))


def test_missing_store_is_an_error(tmp_path):
    with pytest.raises(StoreError, match="no annotation store"):
        AnnotationStore(tmp_path / "nope.sqlite", create=False)
    assert main(["annotations", "stats", str(tmp_path / "nope.sqlite")]) == 2


def test_import_goemotions_gpt4(tmp_path, shared_data, capsys):
    files = sorted(str(p) for p in (shared_data / "goemotions_gpt4").glob("*.csv"))
    store_path = tmp_path / "s.sqlite"
    assert main(["annotations", "import-goemotions-gpt4", *files, "--store", str(store_path)]) == 0
    assert main(["annotations", "stats", str(store_path), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (stats["rows"], stats["failed"], stats["done"]) == (10853, 281, 10572)
    assert stats["failure_reasons"] == {
        "FAILED_ANNOTATION_OUT_OF_RETRY": 4,
        "FAILED_ANNOTATION_REJECTED": 277,
    }

    store = AnnotationStore(store_path)
    recs = {r.id: r for r in store.records(status="all", teacher="gpt-4", mode="labels")}
    splits = [r.split for r in recs.values()]
    assert (splits.count("dev"), splits.count("test")) == (5426, 5427)
    # labels are GPT-4's, never the human ones
    disagree = 0
    with open(shared_data / "goemotions_gpt4" / "goemotions_complete_val_annotations.csv", newline="") as f:
        for row in csv.DictReader(f):
            rec = recs[row["id"]]
            assert rec.text == row["text"] and rec.label_set == "goemotions"
            if row["gpt_label"].startswith("FAILED"):
                assert rec.status == "failed" and rec.error == row["gpt_label"] and rec.labels == []
            else:
                assert rec.labels == list(dict.fromkeys(row["gpt_label"].split(",")))  # GPT-4 repeats some
                disagree += set(rec.labels) != set(row["human_label"].split(","))
    assert disagree > 1000
    # importing again replaces rows instead of duplicating them
    assert main(["annotations", "import-goemotions-gpt4", files[0], "--store", str(store_path)]) == 0
    assert store.stats()["rows"] == 10853


def test_import_goemotions_gpt4_train_labels(tmp_path, shared_data, capsys):
    """The train label file: one record per train.tsv row, texts and ids from train.tsv, failures kept."""
    from emolite.distill.data import store_examples

    labels_file = shared_data / "goemotions_gpt4" / "goemotions_complete_train_gpt_labels.tsv"
    store_path = tmp_path / "s.sqlite"
    assert main(["annotations", "import-goemotions-gpt4", str(labels_file), "--store", str(store_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("43410 rows, 1132 failed")
    with open(labels_file, newline="", encoding="utf-8") as f:
        answers = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    with open(shared_data / "goemotions" / "train.tsv", newline="", encoding="utf-8") as f:
        train = list(csv.reader(f, delimiter="\t"))
    names = (shared_data / "goemotions" / "emotions.txt").read_text().split()

    store = AnnotationStore(store_path)
    stats = store.stats()
    assert (stats["rows"], stats["done"], stats["failed"]) == (43410, 42278, 1132)
    assert stats["failure_reasons"] == {"FAILED_ANNOTATION_OUT_OF_RETRY": 37, "FAILED_ANNOTATION_REJECTED": 1095}
    recs = sorted(store.records(status="all"), key=lambda r: r.meta["row"])
    assert [r.id for r in recs] == [row[2] for row in train]
    assert [r.text for r in recs] == [row[0] for row in train]
    assert {(r.split, r.teacher, r.label_set) for r in recs} == {("train", "gpt-4", "goemotions")}
    disagree = 0
    for rec, answer, row in zip(recs, answers, train):
        if answer["gpt_label"].startswith("FAILED"):
            assert (rec.status, rec.error, rec.labels) == ("failed", answer["gpt_label"], [])
        else:  # GPT-4's labels, never the human ones of train.tsv
            assert rec.status == "done" and rec.labels == list(dict.fromkeys(answer["gpt_label"].split(",")))
            disagree += set(rec.labels) != {names[int(i)] for i in row[1].split(",")}
    assert disagree == 35796
    assert len(store_examples(store_path, "train")) == 42278


def test_import_refuses_files_it_cannot_place(tmp_path, shared_data, capsys):
    """A file whose name does not say its split, or without the teacher's columns, imports nothing."""
    renamed = tmp_path / "annotations.csv"
    renamed.write_bytes((shared_data / "goemotions_gpt4" / "goemotions_complete_val_annotations.csv").read_bytes())
    no_labels = tmp_path / "goemotions_complete_test_annotations.csv"
    no_labels.write_text(",text,id,label\n0,hello,x1,1\n", encoding="utf-8")
    store_path = tmp_path / "s.sqlite"
    for path, message in ((renamed, "not a GoEmotions GPT-4 file name"), (no_labels, "gpt_label")):
        assert main(["annotations", "import-goemotions-gpt4", str(path), "--store", str(store_path)]) == 2
        assert message in capsys.readouterr().err
    assert AnnotationStore(store_path).stats()["rows"] == 0


def test_dump_is_json_lines_without_human_labels(tmp_path, shared_data, capsys):
    csv_path = shared_data / "goemotions_gpt4" / "goemotions_complete_val_annotations.csv"
    store_path = tmp_path / "s.sqlite"
    main(["annotations", "import-goemotions-gpt4", str(csv_path), "--store", str(store_path)])
    capsys.readouterr()
    assert main(["annotations", "dump", str(store_path), "--status", "failed"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == sum(
        1 for r in csv.DictReader(csv_path.open(newline="")) if r["gpt_label"].startswith("F")
    )
    assert all(x["status"] == "failed" and x["error"].startswith("FAILED_") for x in lines)
    assert {"id", "text", "teacher", "prompt_version", "mode", "status", "labels", "error", "usage"} <= set(
        lines[0]
    )
    assert "human_label" not in json.dumps(lines[0])
