"""Batch API annotation against the real loopback server: upload, create, poll, download, merge, resume."""

from __future__ import annotations

import json

import pytest

from emolite.cli import main
from emolite.distill.store import AnnotationStore

from .teacher_server import TeacherServer

KEY = "sk-batch-test-key-0987654321"
TEXTS = ["[[500,ok]] flaky line", "[[prose]] prose line", "[[400]] rejected line", "[[503*]] never works"] + [
    f"batch text {i}" for i in range(12)
]


@pytest.fixture()
def inp(tmp_path, monkeypatch):
    monkeypatch.setenv("BATCH_KEY", KEY)
    path = tmp_path / "in.txt"
    path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return path


def _cli(server: TeacherServer, inp, store, *extra: str) -> int:
    return main(
        [
            "annotate",
            str(inp),
            "--store",
            str(store),
            "--model",
            "teacher-b",
            "--base-url",
            server.base_url,
            "--api-key-env",
            "BATCH_KEY",
            "--mode",
            "labels",
            "--labels",
            "goemotions",
            "--batch",
            "--poll-interval",
            "0.01",
            "--backoff-base",
            "0.01",
            "--backoff-max",
            "0.05",
            "--max-retries",
            "2",
            "--no-progress",
            "--json",
            *extra,
        ]
    )


def test_batch_run_with_faults(tmp_path, inp, capsys):
    store_path = tmp_path / "s.sqlite"
    with TeacherServer(api_key=KEY, mgmt_faults=["503", "ok", "429:0.05", "malformed", "drop"]) as server:
        assert _cli(server, inp, store_path) == 0
        summary = json.loads(capsys.readouterr().out)
        lines = [e for e in server.log if e["path"] == "batch"]
        # round 1: 16 lines; round 2: the 500 and the 503; round 3: the 503 again -> out of retries
        assert len(server.batches) == 3 and len(lines) == 16 + 2 + 1
        assert [e["action"] for e in server.log if e["path"] == "mgmt"][:5] == [
            "503",
            "ok",
            "429:0.05",
            "malformed",
            "drop",
        ]
        assert _cli(server, inp, store_path) == 0  # nothing left to do: no new batch
        assert len(server.batches) == 3
    assert (summary["done"], summary["failed"], summary["pending"]) == (13, 3, 0)
    recs = {r.text: r for r in AnnotationStore(store_path).records(status="all")}
    assert len(recs) == len(TEXTS)
    assert recs["[[prose]] prose line"].error.startswith("unparseable:")
    assert recs["[[400]] rejected line"].error.startswith("http_400:")
    assert recs["[[503*]] never works"].error.startswith("out_of_retries:")
    assert (
        recs["[[500,ok]] flaky line"].status == "done"
        and recs["[[500,ok]] flaky line"].source == "batch:batch_2"
    )
    done = [r for r in recs.values() if r.status == "done"]
    assert all(
        r.labels and r.usage["prompt_tokens"] > 0 and r.prompt_version == "labels-v1:goemotions" for r in done
    )


def test_batch_resume_from_store_and_by_id(tmp_path, inp, capsys):
    store_path = tmp_path / "s.sqlite"
    with TeacherServer(api_key=KEY, batch_polls=3) as server:
        assert _cli(server, inp, store_path, "--no-wait") == 0  # submit and leave
        first = json.loads(capsys.readouterr().out)
        store = AnnotationStore(store_path)
        assert first["requests"] == 16 and store.stats()["rows"] == 0 and store.stats()["open_batches"] == 1
        assert _cli(server, inp, store_path, "--no-wait") == 0  # still running: checked, not resubmitted
        assert len(server.batches) == 1 and store.stats()["rows"] == 0

        # a second store attaches to the same batch by id, reading its texts back from the input file
        other = tmp_path / "other.sqlite"
        assert _cli(server, inp, other, "--batch-id", "batch_1", "--max-retries", "0") == 0
        adopted = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert adopted["done"] == 13 - 1 and len(server.batches) == 1  # [[500,ok]] failed its only round

        # the first store merges the finished batch; no budget is left to resubmit its two transient failures
        assert _cli(server, inp, store_path, "--max-requests", "0") == 0
        merged = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert (merged["done"], merged["failed"], merged["pending"]) == (12, 2, 2) and len(server.batches) == 1
        before = {r.id: (r.attempts, r.usage, r.status) for r in store.records(status="all")}
        assert len(before) == 14

        # killed during the merge (answers committed, batch not yet marked merged): the merge runs again
        store.update_batch("batch_1", status="completed", merged=False)
        downloads = len([e for e in server.log if e["path"] == "mgmt" and "/content" in e["text"]])
        assert _cli(server, inp, store_path) == 0
        resumed = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert len([e for e in server.log if e["path"] == "mgmt" and "/content" in e["text"]]) > downloads
        # merging is idempotent: the answers merged before add no tries or tokens and are not counted again
        after = {r.id: (r.attempts, r.usage, r.status) for r in store.records(status="all")}
        assert {i: after[i] for i in before} == before
        assert (resumed["done"], resumed["failed"]) == (1, 1)  # only the two resubmitted texts are new
        assert len(after) == len(TEXTS) and store.stats()["open_batches"] == 0
        lines = [e for e in server.log if e["path"] == "batch"]
        assert len(lines) == 16 + 2 + 1  # batch_1 ran once, then only the transient failures again
    store.close()

    # a batch the server does not know fails loudly and writes nothing
    store = AnnotationStore(store_path)
    before = store.stats()
    store.update_batch("batch_1", status="completed", merged=False)
    with TeacherServer(api_key=KEY) as fresh:
        assert _cli(fresh, inp, store_path) == 2
    store.close()
    after = AnnotationStore(store_path).stats()
    assert (after["rows"], after["attempts"], after["open_batches"]) == (before["rows"], before["attempts"], 1)


def test_batch_budget(tmp_path, inp, capsys):
    with TeacherServer(api_key=KEY) as server:
        assert _cli(server, inp, tmp_path / "s.sqlite", "--max-requests", "5") == 0
        out = json.loads(capsys.readouterr().out)
        assert len([e for e in server.log if e["path"] == "batch"]) == 5
    assert out["stopped"] == "max_requests" and out["done"] + out["failed"] + out["pending"] == len(TEXTS)
