"""Benchmark inputs: a real text distribution, and texts of an exact token length per length bucket."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from emolite import datasets
from emolite.errors import InvalidInputError

log = logging.getLogger(__name__)

SAMPLE_TEXTS = Path(__file__).with_name("sample_texts.txt")
SAMPLE_SOURCE = "benchmarks/sample_texts.txt"


def read_lines(path: str | Path) -> list[str]:
    """One text per non-empty line."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def read_goemotions(path: str | Path) -> list[str]:
    """Texts of a GoEmotions split file ROOT/goemotions/SPLIT.tsv, through the project's one reader."""
    path = Path(path)
    if path.parent.name != "goemotions":
        raise InvalidInputError(
            f"{path}: a .tsv is read as a GoEmotions split, ROOT/goemotions/SPLIT.tsv; "
            "pass other texts as a .txt file, one text per line"
        )
    return datasets.goemotions_texts(path.stem, root=path.parent.parent)


def load_texts(path: str | Path | None = None) -> tuple[list[str], str]:
    """(texts, where they came from): FILE if given, else GoEmotions test from the shared data, else the sample.

    The source string says which was used, and why the sample was, so that a report never passes the
    bundled sample off as the GoEmotions distribution.
    """
    if path is not None:
        path = Path(path)
        texts = read_goemotions(path) if path.suffix == ".tsv" else read_lines(path)
        return texts, str(path)
    root = datasets.data_dir()
    if datasets.available(root):
        source = f"GoEmotions test ({root / 'goemotions' / 'test.tsv'})"
        return datasets.goemotions_texts("test", root), source
    log.warning("GoEmotions test not found under %s (set EMOLITE_DATA); using the bundled sample texts", root)
    return read_lines(SAMPLE_TEXTS), f"{SAMPLE_SOURCE} (no GoEmotions test under {root})"


def subsample(texts: list[str], n: int, seed: int = 0) -> list[str]:
    """A fixed random subset of at most n texts (the same subset on every machine for the same input)."""
    if n >= len(texts):
        return list(texts)
    return random.Random(seed).sample(texts, n)


def text_of_length(encoder, words: list[str], length: int) -> str:
    """A text that tokenises to exactly `length` ids ([CLS] and [SEP] included), built from `words`.

    Grows word by word; when a word overshoots (it splits into several pieces), a one-piece filler word
    tops the count up, so every bucket measures the length it names.
    """
    chosen: list[str] = []
    for word in _cycle(words, 10 * length):
        n = _count(encoder, chosen + [word])
        if n <= length:
            chosen.append(word)
        if n >= length:
            break
    while _count(encoder, chosen) < length:
        chosen.append("ok")
    while _count(encoder, chosen) > length:
        chosen.pop()
    return " ".join(chosen)


def _cycle(words: list[str], limit: int):
    for i in range(limit):
        yield words[i % len(words)]


def _count(encoder, words: list[str]) -> int:
    return len(encoder.encode([" ".join(words)])[0][0])


def vocabulary(texts: list[str], limit: int = 2000) -> list[str]:
    """Plain words from the texts, in order of first appearance, for building bucket texts."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in text.split():
            if word.isalpha():
                seen.setdefault(word, None)
        if len(seen) >= limit:
            break
    return list(seen) or ["happy", "sad", "today", "really", "feel"]
