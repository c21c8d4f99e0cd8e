"""Texts to annotate, from a file (.txt, .jsonl, .csv, .tsv) or a Python iterable, each with a stable id.

An id is the one the input gives, or else a hash of the text, so the same text gets the same id in every
run and a resumed run can tell what it has already answered. Also turns the GPT-4 GoEmotions annotations
(`../shared/data/goemotions_gpt4/`, dev, test and train) into finished store records.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emolite import datasets
from emolite.catalog import GOEMOTIONS
from emolite.errors import EmoliteError

from .store import Record

logger = logging.getLogger(__name__)

SUFFIXES = (".txt", ".jsonl", ".csv", ".tsv")


class InputFormatError(EmoliteError, ValueError):
    """An input file or item that cannot be read as texts to annotate."""


@dataclass(frozen=True)
class TextItem:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


def text_id(text: str) -> str:
    """Content id of a text without one: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_texts(path: str | Path, *, text_field: str = "text", id_field: str = "id") -> list[TextItem]:
    """Read a .txt (one text a line), .jsonl (objects with `text`, optional `id`), .csv or .tsv (header row)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputFormatError(f"{path}: unsupported input type {suffix!r}; use one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise InputFormatError(f"{path}: no such file")
    with path.open(encoding="utf-8", newline="") as f:
        if suffix == ".txt":
            rows = ({"text": line.rstrip("\r\n")} for line in f)
            items = collect(rows, text_field="text", id_field=id_field, where=str(path))
        elif suffix == ".jsonl":
            items = collect(_jsonl_rows(f, path), text_field=text_field, id_field=id_field, where=str(path))
        else:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            if text_field not in (reader.fieldnames or []):
                raise InputFormatError(
                    f"{path}: no {text_field!r} column; columns are {reader.fieldnames} (choose one with --text-field)"
                )
            items = collect(reader, text_field=text_field, id_field=id_field, where=str(path))
    return items


def _jsonl_rows(lines: Iterable[str], path: Path) -> Iterator[dict]:
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise InputFormatError(f"{path}:{n}: expected a JSON object with a 'text' field")
        yield row


def collect(
    items: Iterable[Any], *, text_field: str = "text", id_field: str = "id", where: str = "input"
) -> list[TextItem]:
    """Normalise strings, (id, text) pairs, dicts or TextItems to unique TextItems, in input order.

    Blank texts are skipped; a repeated text is kept once; one id given to two different texts is an error.
    """
    out: dict[str, TextItem] = {}
    blank = 0
    for n, raw in enumerate(items, 1):
        item = _item(raw, text_field, id_field, f"{where} item {n}")
        if item is None:
            blank += 1
            continue
        seen = out.get(item.id)
        if seen is not None and seen.text != item.text:
            raise InputFormatError(f"{where} item {n}: id {item.id!r} is given to two different texts")
        out.setdefault(item.id, item)
    if blank:
        logger.info("skipped %d blank texts in %s", blank, where)
    return list(out.values())


def _item(raw: Any, text_field: str, id_field: str, where: str) -> TextItem | None:
    meta: dict[str, Any] = {}
    if isinstance(raw, TextItem):
        given, text, meta = raw.id, raw.text, dict(raw.meta)
    elif isinstance(raw, str):
        given, text = None, raw
    elif isinstance(raw, tuple) and len(raw) == 2:
        given, text = raw
    elif isinstance(raw, dict):
        if text_field not in raw:
            raise InputFormatError(f"{where}: no {text_field!r} field (fields: {sorted(raw)})")
        given, text = raw.get(id_field), raw[text_field]
        meta = {k: v for k, v in raw.items() if k not in (id_field, text_field) and _plain(v)}
    else:
        raise InputFormatError(
            f"{where}: expected a string, (id, text) pair or dict, got {type(raw).__name__}"
        )
    if not isinstance(text, str):
        raise InputFormatError(f"{where}: text must be a string, got {type(text).__name__}")
    if not text.strip():
        return None
    ident = text_id(text) if given in (None, "") else str(given)
    return TextItem(ident, text, meta)


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


# ---------------------------------------------------------------- GoEmotions GPT-4 annotations

GOEMOTIONS_GPT4 = {
    "teacher": "gpt-4",
    "prompt_version": "goemotions-gpt4",
    "mode": "labels",
    "label_set": "goemotions",
}


def _gpt4_split(path: str | Path) -> str:
    """The GoEmotions split of a GPT-4 annotation file, from its upstream name."""
    name = Path(path).name
    for marker, split in (("_val_", "dev"), ("_test_", "test"), ("_train_", "train")):
        if marker in name:
            return split
    raise InputFormatError(
        f"{path}: not a GoEmotions GPT-4 file name (goemotions_complete_val_annotations.csv, "
        "..._test_annotations.csv or ..._train_gpt_labels.tsv)"
    )


def read_goemotions_gpt4(path: str | Path) -> Iterator[Record]:
    """Store records from one GPT-4 GoEmotions file (dev/test CSV or the train label TSV), read by
    `emolite.datasets.gpt4_rows`, the one reader, which never reads the human labels.

    GPT-4's labels become a done record; a FAILED_* marker a failed record with the marker as its error. The
    train file's texts come from goemotions/train.tsv in the data folder two levels above the file (the
    shared data layout), else from `emolite.datasets.data_dir()`. The split goes to `meta`.
    """
    path = Path(path)
    split = _gpt4_split(path)
    root = path.resolve().parent.parent
    if not (root / "goemotions" / "train.tsv").is_file():
        root = datasets.data_dir()
    known = set(GOEMOTIONS)
    for row in datasets.gpt4_rows(split, root, path):
        meta = {"dataset": "goemotions", "split": split, "row": row.row, "file": path.name}
        yield _goemotions_record(row, known, meta, f"{path} row {row.row}")


def _goemotions_record(row: datasets.TeacherRow, known: set[str], meta: dict, where: str) -> Record:
    rec = Record(
        id=row.id,
        text=row.text,
        raw=row.failure or ",".join(row.labels or ()),
        attempts=1,
        meta=meta,
        source="import:goemotions-gpt4",
        status="done",
        **GOEMOTIONS_GPT4,
    )
    if row.labels is None:
        rec.status, rec.error = "failed", row.failure
        return rec
    unknown = [x for x in row.labels if x not in known]
    if unknown or not row.labels:
        raise InputFormatError(f"{where}: gpt_label {rec.raw!r} holds names outside the GoEmotions set: {unknown}")
    rec.labels = list(row.labels)
    return rec
