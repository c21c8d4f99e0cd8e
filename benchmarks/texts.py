"""Benchmark inputs: a real text distribution, and texts of an exact token length per length bucket."""

from __future__ import annotations

import csv
import random
from pathlib import Path

SAMPLE_TEXTS = Path(__file__).with_name("sample_texts.txt")
# GoEmotions test split beside the repository (../shared/data); absent on a device.
GOEMOTIONS_TEST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "goemotions" / "test.tsv"


def read_goemotions(path: Path) -> list[str]:
    """Texts (column 0) of a GoEmotions .tsv: no header, CSV-quoted where a text holds quotes."""
    with open(path, encoding="utf-8", newline="") as f:
        return [row[0] for row in csv.reader(f, delimiter="\t") if row and row[0].strip()]


def read_lines(path: Path) -> list[str]:
    """One text per non-empty line."""
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def load_texts(path: str | Path | None = None) -> tuple[list[str], str]:
    """(texts, source name): FILE if given (.tsv read as GoEmotions), else GoEmotions test, else the sample."""
    if path is not None:
        path = Path(path)
        texts = read_goemotions(path) if path.suffix == ".tsv" else read_lines(path)
        return texts, str(path)
    if GOEMOTIONS_TEST.is_file():
        return read_goemotions(GOEMOTIONS_TEST), "goemotions/test.tsv"
    return read_lines(SAMPLE_TEXTS), "benchmarks/sample_texts.txt"


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
