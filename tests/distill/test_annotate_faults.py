"""Live annotation against a real fault-injecting HTTP teacher on 127.0.0.1 (no mocked client)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter

import pytest

from emolite.cli import main
from emolite.distill.annotate import AnnotateOptions, AnnotationError, MissingAPIKeyError, annotate
from emolite.distill.inputs import text_id
from emolite.distill.store import AnnotationStore

from .teacher_server import TeacherServer

KEY = "sk-test-k3y-NEVER-STORE-ME-0123456789"
log = logging.getLogger(__name__)


@pytest.fixture()
def key_env(monkeypatch):
    monkeypatch.setenv("EMOLITE_TEST_KEY", KEY)
    return "EMOLITE_TEST_KEY"


def _opts(server: TeacherServer, key_env: str, **kw) -> AnnotateOptions:
    base = {
        "model": "teacher-1",
        "base_url": server.base_url,
        "api_key_env": key_env,
        "timeout": 0.5,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "max_retries": 3,
        "concurrency": 4,
        "progress": False,
    }
    return AnnotateOptions(**{**base, **kw})


def assert_consistent(store: AnnotationStore) -> None:
    """Every row is a finished answer or a failure with its reason; SQLite itself is intact."""
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for rec in store.records(status="all"):
        if rec.status == "done":
            assert (rec.descriptors or rec.labels) and rec.error is None, rec
        else:
            assert rec.status == "failed" and rec.error and ":" in rec.error, rec


SCRIPTED = {
    "[[429:0.3,ok]] rate limited once": ("done", None),
    "[[500,503,ok]] two server errors": ("done", None),
    "[[stall,ok]] stalls past the timeout": ("done", None),
    "[[malformed,ok]] truncated JSON body": ("done", None),
    "[[drop,ok]] connection dropped": ("done", None),
    "[[prose]] answers in prose": ("failed", "unparseable"),
    "[[wrongjson]] answers the wrong JSON": ("failed", "schema"),
    "[[refusal]] refuses": ("failed", "refusal"),
    "[[filter]] content filter": ("failed", "content_filter"),
    "[[400]] rejected request": ("failed", "http_400"),
    "[[503*]] always down": ("failed", "out_of_retries"),
    "a plain happy text": ("done", None),
}


def test_scripted_faults_end_done_or_failed_with_reason(tmp_path, key_env):
    with TeacherServer(api_key=KEY, stall=1.0) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        summary = annotate(list(SCRIPTED), store, _opts(server, key_env))
        chat = server.chat_log()
    recs = {r.text: r for r in store.records(status="all")}
    assert len(recs) == len(SCRIPTED)
    for text, (status, reason) in SCRIPTED.items():
        assert recs[text].status == status, (text, recs[text])
        if reason:
            assert recs[text].error.startswith(reason + ":"), recs[text].error
    assert_consistent(store)
    assert recs["[[prose]] answers in prose"].raw.startswith("The writer seems happy")  # raw answer kept
    assert recs["[[503*]] always down"].attempts == 4  # 1 try + max_retries 3
    assert recs["[[500,503,ok]] two server errors"].attempts == 3
    # the client's counts are the server's counts
    assert summary.requests == len(chat)
    assert summary.retries == len(chat) - len(SCRIPTED)
    assert (summary.done, summary.failed, summary.pending) == (6, 6, 0)
    # Retry-After: 0.3 is honoured although the backoff base is 0.01
    t = [e["t"] for e in chat if e["text"].startswith("[[429")]
    assert len(t) == 2 and t[1] - t[0] >= 0.3
    # tokens come from the API's usage field, summed over tries
    assert summary.prompt_tokens == sum(r.usage["prompt_tokens"] for r in recs.values()) > 0
    # no answer lost: every text the server answered well is stored done, with the server's descriptors
    for e in chat:
        if e["action"] == "ok":
            assert recs[e["text"]].status == "done" and recs[e["text"]].descriptors


def test_random_fault_storm_loses_nothing_and_duplicates_nothing(tmp_path, key_env):
    """60 texts, 35% of requests hit a random transient fault (429, 500, 503, stall, malformed, drop)."""
    texts = [f"storm text {i}: what a day" for i in range(60)]
    with TeacherServer(api_key=KEY, fault_rate=0.35, seed=11, stall=1.0) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        summary = annotate(texts, store, _opts(server, key_env, timeout=0.5, max_retries=12, concurrency=8))
        chat = server.chat_log()
    answers = Counter(e["text"] for e in chat if e["action"] == "ok")
    faults = Counter(e["action"].split(":")[0] for e in chat if e["action"] != "ok")
    log.warning(
        "storm: %d texts, %d requests, %d retries, faults %s, failed %d, duplicates %d",
        len(texts),
        len(chat),
        summary.retries,
        dict(faults),
        summary.failed,
        sum(1 for c in answers.values() if c > 1),
    )
    assert summary.done == len(texts) and summary.failed == 0
    assert len(faults) >= 5 and sum(faults.values()) > 15  # the storm did happen
    assert summary.requests == len(chat) and summary.retries == len(chat) - len(texts)
    assert (
        set(answers) == set(texts) and max(answers.values()) == 1
    )  # one good answer per text, none repeated
    assert store.stats()["attempts"] == len(chat)
    assert_consistent(store)
    # a second run asks nothing
    with TeacherServer(api_key=KEY) as server:
        again = annotate(texts, store, _opts(server, key_env))
        assert server.chat_log() == [] and again.skipped_done == len(texts)


def test_budget_caps_stop_cleanly(tmp_path, key_env):
    texts = [f"[[503,ok]] budget {i}" if i % 3 == 0 else f"budget text {i}" for i in range(20)]
    with TeacherServer(api_key=KEY) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        s1 = annotate(texts, store, _opts(server, key_env, max_requests=7, concurrency=3))
        first = {r.text for r in store.records(status="all")}
        assert len(server.chat_log()) == 7 and s1.requests == 7 and s1.stopped == "max_requests"
        assert s1.done + s1.failed == len(first) and s1.pending == len(texts) - len(first) > 0
        assert_consistent(store)
        mark = server.chat_log()[-1]["t"]
        s2 = annotate(texts, store, _opts(server, key_env))
        assert s2.skipped_done == len(first) and s2.done == len(texts) - len(first) and s2.stopped is None
        assert not [e for e in server.chat_log() if e["t"] > mark and e["text"] in first]  # not asked twice

    with TeacherServer(api_key=KEY) as server:
        store = AnnotationStore(tmp_path / "t.sqlite")
        cap = 1000
        s3 = annotate(
            texts, store, _opts(server, key_env, max_tokens=cap, max_answer_tokens=64, concurrency=3)
        )
        used = s3.prompt_tokens + s3.completion_tokens
        assert s3.stopped == "max_tokens" and 0 < used <= cap
        assert 0 < s3.done < len(texts) and len(server.chat_log()) == s3.requests
        assert_consistent(store)


def test_retry_failed(tmp_path, key_env):
    texts = ["[[prose,ok]] first answer is prose", "fine text"]
    with TeacherServer(api_key=KEY) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        annotate(texts, store, _opts(server, key_env))
        assert {r.text: r.status for r in store.records(status="all")} == {
            texts[0]: "failed",
            texts[1]: "done",
        }
        n = len(server.chat_log())
        s = annotate(texts, store, _opts(server, key_env))  # failures are not retried unless asked
        assert len(server.chat_log()) == n and s.skipped_failed == 1
        s = annotate(texts, store, _opts(server, key_env, retry_failed=True))
        assert s.done == 1 and len(server.chat_log()) == n + 1
    rec = store.get(text_id(texts[0]), "teacher-1", "descriptors-v1")
    assert rec.status == "done" and rec.error is None and rec.attempts == 2


def test_labels_mode_and_response_format_fallback(tmp_path, key_env):
    texts = [f"so angry right now, take {i}" for i in range(8)]
    with TeacherServer(api_key=KEY, reject_json_schema=True, latency=0.05) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        s = annotate(texts, store, _opts(server, key_env, mode="labels", labels="ekman", concurrency=4))
        chat = server.chat_log()
    assert s.done == 8 and s.failed == 0
    # up to four requests were in flight with json_schema: one downgrade to json_object, none further to "none"
    assert 1 <= [e["action"] for e in chat].count("reject_format") <= 4
    assert {e["format"] for e in chat if e["action"] == "ok"} == {"json_object"}
    ekman = {"anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"}
    for rec in store.records(mode="labels"):
        assert rec.prompt_version == "labels-v1:ekman" and rec.label_set == "ekman"
        assert rec.labels and set(rec.labels) <= ekman and rec.descriptors == []


def test_rejected_parameters_are_adapted(tmp_path, key_env):
    texts = [f"reasoning teacher {i}" for i in range(6)]
    with TeacherServer(api_key=KEY, reject_params=("max_tokens", "temperature", "seed")) as server:
        s = annotate(texts, AnnotationStore(tmp_path / "s.sqlite"), _opts(server, key_env, concurrency=3))
        chat = server.chat_log()
    assert s.done == 6 and s.failed == 0
    assert {tuple(e["params"]) for e in chat if e["action"] == "ok"} == {
        ("max_completion_tokens", "response_format")
    }


def test_key_errors(tmp_path, monkeypatch):
    store = AnnotationStore(tmp_path / "s.sqlite")
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(MissingAPIKeyError, match="NO_SUCH_KEY_VAR"):
        annotate(["x"], store, AnnotateOptions(model="m", api_key_env="NO_SUCH_KEY_VAR"))
    monkeypatch.setenv("WRONG_KEY", "sk-wrong-key-abcdef")
    with TeacherServer(api_key=KEY) as server:
        with pytest.raises(AnnotationError, match="API key") as info:
            annotate(["x", "y"], store, _opts(server, "WRONG_KEY"))
        assert "sk-wrong-key-abcdef" not in str(info.value)
        assert len(server.log) <= 4  # a rejected key stops the run; it does not fail every text
    assert store.stats()["rows"] == 0


def test_cli_dry_run_sends_nothing(tmp_path, key_env, capsys):
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"t{i}", "text": f"text number {i}"}) + "\n" for i in range(10)))
    store_path = tmp_path / "s.sqlite"
    with TeacherServer(api_key=KEY) as server:
        common = [
            "annotate",
            str(inp),
            "--store",
            str(store_path),
            "--model",
            "teacher-1",
            "--base-url",
            server.base_url,
            "--api-key-env",
            key_env,
            "--no-progress",
        ]
        assert main([*common, "--max-requests", "4", "--backoff-base", "0.01"]) == 0
        capsys.readouterr()
        assert (
            main([*common, "--dry-run", "--json", "--price-prompt", "2.5", "--price-completion", "10"]) == 0
        )
        est = json.loads(capsys.readouterr().out)
        assert len(server.chat_log()) == 4  # the dry run sent nothing
    assert (est["texts"], est["skipped_done"], est["requests"]) == (10, 4, 6)
    assert est["prompt_tokens"] > 6 * 150 and est["completion_tokens_max"] == 6 * 256
    assert est["cost_usd"] == round((est["prompt_tokens"] * 2.5 + est["completion_tokens"] * 10) / 1e6, 4)


def test_cli_dry_run_creates_no_store(tmp_path, key_env, capsys):
    inp = tmp_path / "in.txt"
    inp.write_text("first text\nsecond text\n")
    store_path = tmp_path / "never.sqlite"
    args = ["annotate", str(inp), "--store", str(store_path), "--model", "m", "--api-key-env", key_env, "--dry-run",
            "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["requests"] == 2
    assert not store_path.exists() and not list(tmp_path.glob("never.sqlite*"))


def test_key_never_stored_even_when_the_server_echoes_it(tmp_path, key_env, caplog):
    texts = ["[[echo]] the server echoes the auth header", "[[429:0.05,ok]] fine", "[[drop,ok]] dropped"]
    caplog.set_level(logging.DEBUG)
    with TeacherServer(api_key=KEY) as server:
        store = AnnotationStore(tmp_path / "s.sqlite")
        annotate(texts, store, _opts(server, key_env))
    echoed = next(r for r in store.records(status="failed"))
    assert "[redacted]" in echoed.error and "[redacted]" in echoed.raw
    store.close()
    con = sqlite3.connect(tmp_path / "s.sqlite")
    dumped = "\n".join(con.iterdump())
    assert dumped.count("Bearer [redacted]") >= 2 and KEY not in dumped
    for f in tmp_path.iterdir():
        assert KEY.encode() not in f.read_bytes(), f
    assert KEY not in caplog.text
