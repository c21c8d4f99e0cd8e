"""Label sets a user saves by name (`Classifier.add_label_set`), kept as one small JSON file.

Only words, descriptions and the decision mode are stored: the embeddings depend on the model, so each
bundle computes them when a set is first used. The file is untrusted input like a bundle: it is checked
field by field when read, and a file that cannot be read is never overwritten (nothing is lost).
Location: $EMOLITE_HOME/label_sets.json, else ~/.config/emolite/label_sets.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EmoliteError

FORMAT = "emolite-label-sets"
VERSION = 1


class LabelStoreError(EmoliteError, ValueError):
    """The user label-set file cannot be read; it is left as it is."""


@dataclass(frozen=True)
class UserLabelSet:
    name: str
    labels: tuple[str, ...]
    descriptions: dict[str, list[str]] = field(default_factory=dict)
    multi_label: bool = False
    threshold: float | None = None


def store_path() -> Path:
    home = os.environ.get("EMOLITE_HOME")
    root = Path(home) if home else Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "emolite"
    return root / "label_sets.json"


def load_all(path: Path | None = None) -> dict[str, UserLabelSet]:
    """Every saved set by name; {} when there is no file yet."""
    path = path or store_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelStoreError(f"{path} is not a readable label-set file ({exc}); fix or move it") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise LabelStoreError(f"{path} is not an emolite label-set file (format {FORMAT} v{VERSION})")
    sets = data.get("sets")
    if not isinstance(sets, dict):
        raise LabelStoreError(f"{path}: 'sets' must be an object")
    return {name: _parse(path, name, entry) for name, entry in sets.items()}


def _parse(path: Path, name: str, entry: object) -> UserLabelSet:
    def bad(what: str) -> LabelStoreError:
        return LabelStoreError(f"{path}: label set '{name}': {what}")

    if not isinstance(entry, dict):
        raise bad("must be an object")
    labels = entry.get("labels")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
        raise bad("'labels' must be a non-empty list of words")
    descriptions = entry.get("descriptions", {})
    if not isinstance(descriptions, dict) or not all(
        k in labels and isinstance(v, list) and all(isinstance(t, str) for t in v) for k, v in descriptions.items()
    ):
        raise bad("'descriptions' must map its labels to lists of texts")
    multi = entry.get("multi_label", False)
    threshold = entry.get("threshold")
    if not isinstance(multi, bool):
        raise bad("'multi_label' must be true or false")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not 0 < threshold < 1):
        raise bad("'threshold' must be a number between 0 and 1")
    return UserLabelSet(name, tuple(labels), {k: list(v) for k, v in descriptions.items()}, multi, threshold)


def save(label_set: UserLabelSet, path: Path | None = None) -> Path:
    """Add or replace one set, keeping every other."""
    path = path or store_path()
    sets = load_all(path)  # refuses (and so keeps) a file it cannot read
    sets[label_set.name] = label_set
    return _write(sets, path)


def remove(name: str, path: Path | None = None) -> bool:
    """Forget a saved set; False when there was none of that name."""
    path = path or store_path()
    sets = load_all(path)
    if sets.pop(name, None) is None:
        return False
    _write(sets, path)
    return True


def _write(sets: dict[str, UserLabelSet], path: Path) -> Path:
    """The whole file, to a temporary file first and then renamed over the old one (never half written)."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "sets": {
            s.name: {"labels": list(s.labels), "descriptions": s.descriptions, "multi_label": s.multi_label,
                     "threshold": s.threshold}
            for s in sets.values()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".label_sets.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path
