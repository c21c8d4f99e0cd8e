"""Pieces of annotation that need no server: input files, prompts, answer parsing, retry timing."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from emolite.distill.annotate import Budget, RetryPolicy, parse_retry_after
from emolite.distill.annotate_answers import (
    AnswerError,
    PromptError,
    build_prompt,
    extract_json,
    parse_message,
    response_format,
)
from emolite.distill.inputs import InputFormatError, collect, read_texts, text_id


def test_read_txt_jsonl_csv_tsv(tmp_path):
    (tmp_path / "a.txt").write_text("I love it\n\n  \nso tired\nI love it\n", encoding="utf-8")
    items = read_texts(tmp_path / "a.txt")
    assert [i.text for i in items] == ["I love it", "so tired"]  # blank skipped, repeat kept once
    assert items[0].id == text_id("I love it") and len(items[0].id) == 16

    (tmp_path / "b.jsonl").write_text(
        json.dumps({"id": "x1", "text": "great", "lang": "en"}) + "\n" + json.dumps({"text": "meh"}) + "\n"
    )
    items = read_texts(tmp_path / "b.jsonl")
    assert [(i.id, i.text) for i in items] == [("x1", "great"), (text_id("meh"), "meh")]
    assert items[0].meta == {"lang": "en"}

    (tmp_path / "c.csv").write_text('id,body\n7,"quoted, with comma"\n8,"line\nbreak"\n', encoding="utf-8")
    items = read_texts(tmp_path / "c.csv", text_field="body")
    assert [(i.id, i.text) for i in items] == [("7", "quoted, with comma"), ("8", "line\nbreak")]
    with pytest.raises(InputFormatError, match="columns are"):
        read_texts(tmp_path / "c.csv")

    (tmp_path / "d.tsv").write_text("text\tid\nhello there\tq\n", encoding="utf-8")
    assert [(i.id, i.text) for i in read_texts(tmp_path / "d.tsv")] == [("q", "hello there")]


def test_bad_inputs(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(InputFormatError, match="bad.jsonl:2"):
        read_texts(tmp_path / "bad.jsonl")
    with pytest.raises(InputFormatError, match="unsupported"):
        read_texts(tmp_path / "x.pdf")
    with pytest.raises(InputFormatError, match="two different texts"):
        collect([("1", "a"), ("1", "b")])
    with pytest.raises(InputFormatError):
        collect([3.5])


def test_prompts_are_versioned_and_carry_the_label_set():
    d = build_prompt("descriptors")
    assert d.version == "descriptors-v1" and "$" not in d.system and '{"descriptors"' in d.system
    e = build_prompt("labels", "ekman")
    assert (
        e.version == "labels-v1:ekman" and "anger, disgust, fear, joy, sadness, surprise, neutral" in e.system
    )
    assert e.schema["properties"]["labels"]["items"]["enum"][-1] == "neutral"
    c = build_prompt("labels", "Calm, angry,calm")
    assert c.labels == ("calm", "angry") and c.version.startswith("labels-v1:custom-")
    assert build_prompt("labels", "angry,calm").version != build_prompt("labels", "angry,sad").version
    assert response_format(d, "json_schema")["json_schema"]["schema"]["required"] == ["descriptors"]
    assert response_format(d, "none") is None
    with pytest.raises(PromptError, match="known"):
        build_prompt("labels", "nosuchset")
    with pytest.raises(PromptError, match="available"):
        build_prompt("descriptors", version="descriptors-v9")


def _msg(content, **kw):
    return {"role": "assistant", "content": content, "finish_reason": "stop", **kw}


def test_parse_descriptors_defensively():
    spec = build_prompt("descriptors", rationale=True)
    out = parse_message(
        _msg(
            'Sure!\n```json\n{"descriptors": [" Joy ", "joy", "Quiet Pride.", "neutral",'
            ' "a very long phrase of many words"], "rationale": "  happy   tone "}\n```'
        ),
        spec,
    )
    assert out["descriptors"] == ["joy", "quiet pride"] and out["rationale"] == "happy tone"
    assert parse_message(_msg('["relief"]'), spec)["descriptors"] == ["relief"]
    assert parse_message(_msg('{"descriptors": ["neutral"]}'), spec)["descriptors"] == ["neutral"]
    for content, reason in [
        ("The writer is happy.", "unparseable"),
        ('{"emotion": "joy"}', "schema"),
        ('{"descriptors": []}', "schema"),
        ('{"descriptors": [1, 2]}', "schema"),
        ("I'm sorry, I can't help with that.", "refusal"),
    ]:
        with pytest.raises(AnswerError) as info:
            parse_message(_msg(content), spec)
        assert info.value.reason == reason, content
    for message, reason in [
        (_msg(None, refusal="no."), "refusal"),
        (_msg(None, finish_reason="content_filter"), "content_filter"),
        (_msg('{"descriptors": ["jo', finish_reason="length"), "truncated"),
        (_msg(""), "empty"),
    ]:
        with pytest.raises(AnswerError) as info:
            parse_message(message, spec)
        assert info.value.reason == reason


def test_parse_labels_keeps_only_the_label_set():
    spec = build_prompt("labels", "ekman")
    assert parse_message(_msg('{"labels": ["Joy", "love", "neutral", "joy"]}'), spec)["labels"] == ["joy"]
    with pytest.raises(AnswerError, match="no label"):
        parse_message(_msg('{"labels": ["love"]}'), spec)
    single = build_prompt("labels", "carer-6")  # single-label set: one answer
    assert parse_message(_msg('{"labels": "fear, anger"}'), single)["labels"] == ["fear"]
    assert extract_json('noise {"a": 1} trailing') == {"a": 1}


def test_retry_after_and_backoff():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None
    policy = RetryPolicy(max_retries=5, base=1.0, cap=8.0)
    for retry, (lo, hi) in {1: (0.5, 1.0), 2: (1.0, 2.0), 3: (2.0, 4.0), 6: (4.0, 8.0)}.items():
        delays = [policy.delay(retry) for _ in range(200)]
        assert lo <= min(delays) and max(delays) <= hi and len(set(delays)) > 100  # jittered
    assert policy.delay(1, retry_after=5.0) == 5.0


def test_budget_reserves_worst_case():
    b = Budget(max_requests=None, max_tokens=100)
    assert b.acquire(40) and b.acquire(40) and not b.acquire(40)
    assert b.exhausted == "max_tokens"
    b = Budget(max_requests=2, max_tokens=None)
    assert b.acquire(1) and b.acquire(1) and not b.acquire(1) and b.exhausted == "max_requests"
