"""Readers for the evaluation data in ../shared/data (see its README). Human labels: evaluation only.

Every reader returns an EvalSet: texts, the label space, and gold labels as a 0/1 matrix (multi-label),
class indices (single-label) or intensities (regression). `limit` takes the first rows, for quick tests.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emolite.errors import EmoliteError


class DatasetMissingError(EmoliteError):
    """An evaluation file is not where ../shared/data's README says it is."""


@dataclass
class EvalSet:
    name: str  # e.g. "goemotions-28"
    source: str  # dataset, split and file, cited in the results table
    texts: list[str]
    labels: tuple[str, ...]
    kind: str  # "multi" | "single" | "regression"
    gold: np.ndarray
    label_set: str  # the bundle label set scored against (regression: the emotion's set)
    ids: list[str] | None = None


def default_data_dir() -> Path:
    """../shared/data beside the repository checkout (or $EMOLITE_DATA)."""
    import os

    env = os.environ.get("EMOLITE_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DatasetMissingError(f"{path} is missing; evaluation reads ../shared/data (or set EMOLITE_DATA)")
    return path


def goemotions_rows(root: Path, split: str = "test", limit: int = 0) -> tuple[list[str], list[str], list[list[str]]]:
    """(ids, texts, label names per row) of a GoEmotions split (headerless, CSV-quoted TSV)."""
    names = _need(root / "goemotions" / "emotions.txt").read_text().split()
    ids, texts, labels = [], [], []
    with open(_need(root / "goemotions" / f"{split}.tsv"), newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            texts.append(row[0])
            labels.append([names[int(i)] for i in row[1].split(",")])
            ids.append(row[2])
            if limit and len(texts) >= limit:
                break
    return ids, texts, labels


def goemotions_groups(root: Path) -> dict[str, dict[str, list[str]]]:
    """The published Ekman and sentiment groupings of the 28 labels (neutral stays neutral)."""
    out = {}
    for name, file in (("ekman", "ekman_mapping.json"), ("sentiment", "sentiment_dict.json")):
        groups = json.loads(_need(root / "goemotions" / file).read_text())
        out[name] = {**groups, "neutral": ["neutral"]}
    return out


def to_matrix(rows: list[list[str]], labels: tuple[str, ...]) -> np.ndarray:
    index = {label: i for i, label in enumerate(labels)}
    gold = np.zeros((len(rows), len(labels)), dtype=bool)
    for r, names in enumerate(rows):
        for name in names:
            gold[r, index[name]] = True
    return gold


def regroup(rows: list[list[str]], groups: dict[str, list[str]]) -> list[list[str]]:
    return [[g for g, members in groups.items() if any(n in members for n in names)] for names in rows]


def goemotions(root: Path, limit: int = 0) -> list[EvalSet]:
    """GoEmotions test in three label spaces: 28 labels, Ekman 6 + neutral, sentiment groups + neutral."""
    ids, texts, rows = goemotions_rows(root, "test", limit)
    names = tuple(_need(root / "goemotions" / "emotions.txt").read_text().split())
    source = "GoEmotions test (goemotions/test.tsv)"
    out = [EvalSet("goemotions-28", source, texts, names, "multi", to_matrix(rows, names), "goemotions", ids)]
    for set_name, groups in goemotions_groups(root).items():
        labels = tuple(groups)
        gold = to_matrix(regroup(rows, groups), labels)
        name = f"goemotions-{set_name}-{len(labels)}"
        out.append(EvalSet(name, source, texts, labels, "multi", gold, set_name, ids))
    return out


def semeval_ec(root: Path, limit: int = 0) -> EvalSet:
    """SemEval-2018 E-c test-gold: 11 emotions, multi-label (a row may have none)."""
    path = _need(root / "semeval2018_ec" / "E-c-En-test-gold.txt")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        rows = [r for _, r in zip(range(limit or 10**9), reader)]
    labels = tuple(header[2:])
    gold = np.array([[c == "1" for c in r[2:]] for r in rows], dtype=bool)
    return EvalSet("semeval-ec-11", "SemEval-2018 E-c test-gold", [r[1] for r in rows], labels, "multi", gold,
                   "semeval-11", [r[0] for r in rows])


def carer(root: Path, limit: int = 0) -> EvalSet:
    """CARER test: 6 emotions, single-label."""
    lines = _need(root / "carer" / "test.txt").read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.rsplit(";", 1) for line in lines if line.strip()][: limit or None]
    labels = ("sadness", "joy", "love", "anger", "fear", "surprise")
    gold = np.array([labels.index(label) for _, label in rows])
    return EvalSet("carer-6", "CARER test (carer/test.txt)", [t for t, _ in rows], labels, "single", gold, "carer-6")


def semeval_ei_reg(root: Path, limit: int = 0) -> list[EvalSet]:
    """SemEval-2018 EI-reg test-gold, one set per emotion; the 2018-En-mystery- template rows are dropped."""
    out = []
    for emotion in ("anger", "fear", "joy", "sadness"):
        path = _need(root / "semeval2018_ei_reg" / f"EI-reg-En-{emotion}-test-gold.txt")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(reader)
            rows = [r for r in reader if not r[0].startswith("2018-En-mystery-")][: limit or None]
        gold = np.array([float(r[3]) for r in rows])
        out.append(EvalSet(f"ei-reg-{emotion}", "SemEval-2018 EI-reg test-gold (mystery rows dropped)",
                           [r[1] for r in rows], (emotion,), "regression", gold, "semeval-11", [r[0] for r in rows]))
    return out


def gpt4_test_labels(root: Path) -> dict[str, list[str] | None]:
    """GPT-4's labels of the GoEmotions test texts by comment id; None for a failed annotation."""
    path = _need(root / "goemotions_gpt4" / "goemotions_complete_test_annotations.csv")
    out: dict[str, list[str] | None] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            label = row["gpt_label"]
            out[row["id"]] = None if label.startswith("FAILED") else [x.strip() for x in label.split(",") if x.strip()]
    return out


def all_sets(root: Path | None = None, limit: int = 0) -> list[EvalSet]:
    root = root or default_data_dir()
    return [*goemotions(root, limit), semeval_ec(root, limit), carer(root, limit), *semeval_ei_reg(root, limit)]
