"""Input validation and tokenisation into length-sorted, dynamically padded chunks."""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .emoji import EmojiNames
from .errors import InputTypeError, InvalidInputError


def as_text_list(texts: object, what: str = "texts") -> tuple[list[str], bool]:
    """Return (list of texts, whether a single str was given); raise on anything that is not text."""
    if isinstance(texts, str):
        items, single = [texts], True
    elif texts is None:
        raise InputTypeError(f"{what} is None; pass a str or a list of str")
    elif isinstance(texts, (bytes, bytearray)):
        raise InputTypeError(f"{what} is bytes; decode it first, e.g. data.decode('utf-8')")
    elif isinstance(texts, dict) or not hasattr(texts, "__iter__"):
        raise InputTypeError(f"{what} must be a str or a list of str, got {type(texts).__name__}")
    else:
        items, single = list(texts), False
    for i, item in enumerate(items):
        where = "" if single else f" at index {i}"
        if isinstance(item, (bytes, bytearray)):
            raise InputTypeError(f"{what}{where} is bytes; decode it first, e.g. item.decode('utf-8')")
        if not isinstance(item, str):
            raise InputTypeError(f"{what}{where} is {type(item).__name__}, not str")
        if not item.strip():
            raise InvalidInputError(f"{what}{where} is empty or whitespace only; there is nothing to classify")
    return items, single


def check_positive_int(name: str, value: object) -> int | None:
    """None, or an int >= 1 (numpy integers too); a bool or a float is the wrong type, 0 the wrong value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputTypeError(f"{name} must be a positive int or None, got {type(value).__name__} {value!r}")
    if value < 1:
        raise InvalidInputError(f"{name} must be a positive int or None, got {value!r}")
    return int(value)


def _replace_lone_surrogates(text: str) -> str:
    # A lone surrogate (e.g. from a bad JSON escape) cannot be UTF-8 encoded: show it as U+FFFD.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@dataclass
class Chunk:
    """A padded batch of texts of similar length and where they came from."""

    index: np.ndarray  # positions in the caller's list
    input_ids: np.ndarray  # (n, length) int64
    attention_mask: np.ndarray  # (n, length) int64


class TextEncoder:
    """Wraps a HF `tokenizers` tokenizer: truncation at the model maximum, no padding (done per chunk)."""

    def __init__(
        self,
        tokenizer_file: Path,
        max_length: int,
        pad_id: int = 0,
        max_chars_per_word: int = 100,
        emoji: EmojiNames | None = None,
    ):
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.emoji = emoji  # emoji -> words before tokenisation, when the bundle carries the table
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)
        self.max_length = max_length
        self.pad_id = pad_id
        # Every word piece holds at least one character and a word of more than max_chars_per_word characters
        # is one [UNK], so a prefix this long yields far more pieces than the model keeps: longer texts are
        # cut to it before tokenisation (a 10 MB text would otherwise take seconds) and flagged truncated.
        self.max_chars = 2 * max_length * (max_chars_per_word + 1)

    def encode(self, texts: Sequence[str]) -> tuple[list[list[int]], list[bool]]:
        """Token ids per text and whether each was truncated."""
        cut = [len(t) > self.max_chars for t in texts]
        if any(cut):
            texts = [t[: self.max_chars] for t in texts]
        if self.emoji is not None:
            texts = [self.emoji.apply(t) for t in texts]
        try:
            encodings = self._encode(texts)
        except TypeError:
            encodings = self._encode([_replace_lone_surrogates(t) for t in texts])
        return [e.ids for e in encodings], [bool(e.overflowing) or c for e, c in zip(encodings, cut)]

    def _encode(self, texts: Sequence[str]) -> list:
        if len(texts) == 1:  # encode_batch's thread pool costs more than it saves on one text
            return [self.tokenizer.encode(texts[0])]
        return self.tokenizer.encode_batch(list(texts))

    def chunks(self, ids: list[list[int]], batch_size: int) -> Iterator[Chunk]:
        """Length-sorted chunks, each padded only to its own longest text."""
        order = np.argsort([len(x) for x in ids], kind="stable")
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            length = max(len(ids[i]) for i in index)
            input_ids = np.full((len(index), length), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(index), length), dtype=np.int64)
            for row, i in enumerate(index):
                n = len(ids[i])
                input_ids[row, :n] = ids[i]
                mask[row, :n] = 1
            yield Chunk(index, input_ids, mask)
