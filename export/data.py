"""Texts the export stage reads from ../shared/data: unlabelled calibration texts and the teacher-labelled dev set.

Human labels are never read here: the zero-shot gate compares against the teacher's (GPT-4) labels.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emolite.errors import EmoliteError

PROBE_FILE = Path(__file__).with_name("probe_texts.json")
GPT4_DEV = "goemotions_gpt4/goemotions_complete_val_annotations.csv"


class ExportDataError(EmoliteError):
    """The shared data the export gates need is missing."""


def data_dir() -> Path:
    """$EMOLITE_DATA, else ../shared/data beside the repository checkout."""
    env = os.environ.get("EMOLITE_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (path / "goemotions").is_dir():
        raise ExportDataError(f"no GoEmotions data under {path}; set EMOLITE_DATA to the shared data folder")
    return path


def probe_texts() -> list[str]:
    """The committed parity probe set (short, long, emoji, non-English, code, URLs...)."""
    cats = json.loads(PROBE_FILE.read_text(encoding="utf-8"))["categories"]
    return [t for texts in cats.values() for t in texts]


def calibration_texts(n: int = 256, seed: int = 0) -> list[str]:
    """A fixed random sample of GoEmotions train texts, without their labels (SmoothQuant calibration)."""
    with open(data_dir() / "goemotions" / "train.tsv", encoding="utf-8", newline="") as f:
        texts = [row[0] for row in csv.reader(f, delimiter="\t")]
    pick = np.random.default_rng(seed).choice(len(texts), size=min(n, len(texts)), replace=False)
    return [texts[i] for i in sorted(pick)]


@dataclass
class TeacherSet:
    texts: list[str]
    labels: list[list[str]]  # the teacher's labels per text


def goemotions_teacher_dev(limit: int | None = None) -> TeacherSet:
    """GoEmotions dev texts with GPT-4's labels; rows the teacher failed to annotate are dropped."""
    with open(data_dir() / GPT4_DEV, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if not r["gpt_label"].startswith("FAILED")]
    if limit is not None:
        rows = rows[:limit]
    return TeacherSet([r["text"] for r in rows], [r["gpt_label"].split(",") for r in rows])
