"""Emoji become words before tokenisation, by one rule and one table (Python SDK, bundle, Android core)."""

from __future__ import annotations

import json

import pytest

from emolite import emoji
from emolite.errors import BundleIntegrityError


@pytest.fixture(scope="module")
def names() -> emoji.EmojiNames:
    return emoji.default_names()


def test_the_committed_table_is_the_emoji_package_s():
    pytest.importorskip("emoji")
    assert json.loads(emoji.TABLE_FILE.read_text(encoding="utf-8")) == emoji.build_table()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😡", " enraged face "),
        ("I love you❤️!!", "I love you red heart !!"),  # the variation selector belongs to the emoji
        ("❤", " red heart "),
        ("good👍🏽👍", "good thumbs up medium skin tone  thumbs up "),  # the longest sequence first
        ("a 👨‍👩‍👧 trip", "a  family man woman girl  trip"),
        ("plain ascii :) <3", "plain ascii :) <3"),
        ("café, naïve, 我今天很难过", "café, naïve, 我今天很难过"),
    ],
)
def test_longest_key_first_everything_else_kept(names, text, expected):
    assert names.apply(text) == expected


def test_emoji_no_longer_collapse_to_one_token(names, default_bundle):
    from emolite.text import TextEncoder

    plain = TextEncoder(default_bundle / "tokenizer.json", 128)
    mapped = TextEncoder(default_bundle / "tokenizer.json", 128, emoji=names)
    before = {e: tuple(plain.encode([e])[0][0]) for e in ("😡", "😭", "👍")}
    after = {e: tuple(mapped.encode([e])[0][0]) for e in ("😡", "😭", "👍")}
    assert len(set(before.values())) == 1  # all [CLS] [UNK] [SEP]
    assert len(set(after.values())) == 3


@pytest.mark.parametrize("content", ["not json", '{"format": "other", "names": {}}', '{"format": "emolite-emoji-names", "names": {"a": "ascii key"}}'])
def test_a_bad_table_is_refused(tmp_path, content):
    path = tmp_path / "emoji.json"
    path.write_text(content)
    with pytest.raises(BundleIntegrityError):
        emoji.EmojiNames.from_file(path)


@pytest.mark.parametrize(
    ("text", "fitting"),
    [("😡", {"anger", "annoyance"}), ("😭", {"sadness", "grief"}), ("😂", {"amusement", "joy"}),
     ("❤️", {"love"}), ("😱", {"fear", "surprise"})],
)
def test_single_emoji_texts_get_a_fitting_top_label(clf, text, fitting):
    assert clf.predict(text).labels[0] in fitting
