"""The committed parity probe set, export/probe_texts.json: the texts every int8 artifact is compared on.

Kept apart from the gates (json only) so that the ARM check can read the same texts on a machine without
the export extra.
"""

from __future__ import annotations

import json
from pathlib import Path

PROBE_FILE = Path(__file__).with_name("probe_texts.json")


def probe_categories() -> dict[str, list[str]]:
    """Category name -> texts (short, long, emoji, non-English, code, URLs...), in file order."""
    return json.loads(PROBE_FILE.read_text(encoding="utf-8"))["categories"]


def probe_texts() -> list[str]:
    """Every probe text, category after category."""
    return [text for texts in probe_categories().values() for text in texts]
