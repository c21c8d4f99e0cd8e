"""The bench report's JSON Schema (benchmarks/schema.json, draft-07) and its validation with jsonschema.

jsonschema is a test and export dependency, not an SDK one: on a device with only the SDK, `emolite bench`
writes its report unvalidated and says so (`available()`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schema.json")


def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def available() -> bool:
    """Whether jsonschema is installed here."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return True


def validate(report: Any, schema: dict | None = None) -> list[str]:
    """Every violation as '$/path: message', in document order (empty when the report is valid)."""
    import jsonschema

    schema = schema or load_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    return [f"$/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
