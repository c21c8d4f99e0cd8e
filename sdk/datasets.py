"""The one reader of the shared data sets (../shared/data, see its README) and the one data-folder lookup.

Training, export, evaluation and the benchmarks all read through here. Human labels: evaluation only; the
readers of teacher (GPT-4) labels never return them. Evaluation readers return an EvalSet: texts, the label
space, and gold labels as a 0/1 matrix (multi-label), class indices (single-label) or intensities
(regression). `limit` takes the first rows, for quick tests.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .catalog import GOEMOTIONS_GROUPS
from .errors import EmoliteError

GPT4_FILES = {
    "dev": "goemotions_gpt4/goemotions_complete_val_annotations.csv",
    "test": "goemotions_gpt4/goemotions_complete_test_annotations.csv",
}
GPT4_TRAIN_LABELS = "goemotions_gpt4/goemotions_complete_train_gpt_labels.tsv"
FAILED = "FAILED"  # prefix of the teacher's failed-annotation markers


class DatasetMissingError(EmoliteError, FileNotFoundError):
    """A data file is not where ../shared/data's README says it is."""


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


EI_REG_EMOTIONS = ("anger", "fear", "joy", "sadness")

def data_dir() -> Path:
    """$EMOLITE_DATA, else ../shared/data beside the repository checkout (the project's one lookup)."""
    env = os.environ.get("EMOLITE_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


def _need(path: Path) -> Path:
    if not path.is_file():
        raise DatasetMissingError(f"{path} is missing; the shared data is read from ../shared/data (or set EMOLITE_DATA)")
    return path


def available(root: Path | None = None) -> bool:
    """Whether the GoEmotions data is there (a device or a wheel install usually has none)."""
    return ((root or data_dir()) / "goemotions" / "test.tsv").is_file()


def goemotions_texts(split: str = "test", root: Path | None = None) -> list[str]:
    """Texts only of a GoEmotions split (no label read)."""
    with open(_need((root or data_dir()) / "goemotions" / f"{split}.tsv"), newline="", encoding="utf-8") as f:
        return [row[0] for row in csv.reader(f, delimiter="\t") if row and row[0].strip()]


@dataclass(frozen=True)
class TeacherRow:
    """One GPT-4 annotation: labels (None when the teacher failed, with its marker in `failure`)."""

    id: str
    text: str
    labels: tuple[str, ...] | None
    failure: str | None
    split: str
    row: int


def gpt4_rows(split: str, root: Path | None = None, path: Path | None = None) -> Iterator[TeacherRow]:
    """GPT-4's GoEmotions annotations of one split ("train", "dev", "test"); human labels are never read.

    dev/test: the upstream CSVs (`,text,id,label,human_label,gpt_label`); train: the label file, whose rows
    are those of goemotions/train.tsv (texts taken from there). `path` reads another copy of the file.
    """
    root = root or data_dir()
    if split == "train":
        yield from _gpt4_train_rows(root, path)
        return
    path = _need(path or root / GPT4_FILES[split])
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"text", "id", "gpt_label"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetMissingError(f"{path}: not a GoEmotions GPT-4 file, missing columns {sorted(missing)}")
        for n, row in enumerate(reader):
            yield _teacher_row(row["id"], row["text"], row["gpt_label"], split, n)


def _gpt4_train_rows(root: Path, path: Path | None) -> Iterator[TeacherRow]:
    with open(_need(root / "goemotions" / "train.tsv"), newline="", encoding="utf-8") as f:
        ids_texts = [(row[2], row[0]) for row in csv.reader(f, delimiter="\t")]  # column 1 (human) unread
    with open(_need(path or root / GPT4_TRAIN_LABELS), newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            index = int(row["index"])
            ident, text = ids_texts[index]
            if ident != row["id"]:
                raise DatasetMissingError(f"{GPT4_TRAIN_LABELS}: row {index} has id {row['id']}, train.tsv {ident}")
            yield _teacher_row(ident, text, row["gpt_label"], "train", index)


def _teacher_row(ident: str, text: str, answer: str, split: str, n: int) -> TeacherRow:
    answer = answer.strip()
    if answer.startswith(FAILED):
        return TeacherRow(ident, text, None, answer, split, n)
    labels = tuple(dict.fromkeys(x.strip().lower() for x in answer.split(",") if x.strip()))
    return TeacherRow(ident, text, labels, None, split, n)


@dataclass
class TeacherSet:
    texts: list[str]
    labels: list[list[str]]  # the teacher's labels per text


def teacher_dev(limit: int | None = None, root: Path | None = None) -> TeacherSet:
    """GoEmotions dev texts with GPT-4's labels; rows the teacher failed to annotate are dropped."""
    rows = [r for r in gpt4_rows("dev", root) if r.labels is not None][:limit]
    return TeacherSet([r.text for r in rows], [list(r.labels) for r in rows])


def calibration_texts(n: int = 256, seed: int = 0, root: Path | None = None) -> list[str]:
    """A fixed random sample of GoEmotions train texts, without their labels (quantisation calibration)."""
    texts = goemotions_texts("train", root)
    pick = np.random.default_rng(seed).choice(len(texts), size=min(n, len(texts)), replace=False)
    return [texts[i] for i in sorted(pick)]


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


def goemotions_groups(root: Path | None = None) -> dict[str, dict[str, tuple[str, ...]]]:
    """The published Ekman and sentiment groupings of the 28 labels (the catalog's copy; a test holds it
    equal to goemotions/ekman_mapping.json and sentiment_dict.json)."""
    return GOEMOTIONS_GROUPS


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


def _semeval_rows(path: Path) -> list[list[str]]:
    """Rows of a SemEval-2018 Task 1 file (tab-separated, unquoted), header first."""
    with open(_need(path), newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def semeval_ec(root: Path, limit: int = 0) -> EvalSet:
    """SemEval-2018 E-c test-gold: 11 emotions, multi-label (a row may have none)."""
    header, *rows = _semeval_rows(root / "semeval2018_ec" / "E-c-En-test-gold.txt")
    rows = rows[: limit or None]
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
    for emotion in EI_REG_EMOTIONS:
        _, *rows = _semeval_rows(root / "semeval2018_ei_reg" / f"EI-reg-En-{emotion}-test-gold.txt")
        rows = [r for r in rows if not r[0].startswith("2018-En-mystery-")][: limit or None]
        gold = np.array([float(r[3]) for r in rows])
        out.append(EvalSet(f"ei-reg-{emotion}", "SemEval-2018 EI-reg test-gold (mystery rows dropped)",
                           [r[1] for r in rows], (emotion,), "regression", gold, "semeval-11", [r[0] for r in rows]))
    return out


def domain_texts(eval_set: str, root: Path | None = None, n: int = 2000, seed: int = 0) -> list[str] | None:
    """Unlabelled texts of an evaluation set's domain: a fixed sample of its *train* split, texts only (for
    label-free prior adaptation); None when the set has no train split here."""
    root = root or data_dir()
    if eval_set.startswith("semeval-ec"):
        _, *rows = _semeval_rows(root / "semeval2018_ec" / "E-c-En-train.txt")
        texts = [row[1] for row in rows]  # column 1 is the tweet; the label columns are not used
    elif eval_set.startswith("carer"):
        lines = _need(root / "carer" / "train.txt").read_text(encoding="utf-8").splitlines()[1:]
        texts = [line.rsplit(";", 1)[0] for line in lines if line.strip()]  # the label after ';' is dropped
    elif eval_set.startswith("crowdflower"):  # one file, no split: its texts only, never its labels
        with open(_need(root / "crowdflower" / "text_emotion.csv"), newline="", encoding="utf-8") as f:
            texts = [row["content"] for row in csv.DictReader(f)]
    elif eval_set.startswith("ei-reg"):
        texts = []
        for emotion in EI_REG_EMOTIONS:
            _, *rows = _semeval_rows(root / "semeval2018_ei_reg" / f"EI-reg-En-{emotion}-train.txt")
            texts += [row[1] for row in rows]  # the tweet; the intensity column is not used
        texts = list(dict.fromkeys(texts))
    else:
        return None
    pick = np.random.default_rng(seed).choice(len(texts), size=min(n, len(texts)), replace=False)
    return [texts[i] for i in sorted(pick)]


def gpt4_test_labels(root: Path | None = None) -> dict[str, list[str] | None]:
    """GPT-4's labels of the GoEmotions test texts by comment id; None for a failed annotation."""
    return {r.id: None if r.labels is None else list(r.labels) for r in gpt4_rows("test", root)}


def all_sets(root: Path | None = None, limit: int = 0) -> list[EvalSet]:
    root = root or data_dir()
    return [*goemotions(root, limit), semeval_ec(root, limit), carer(root, limit), *semeval_ei_reg(root, limit)]
