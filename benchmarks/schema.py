"""Validate a report against benchmarks/schema.json: with `jsonschema` when installed, else by the small
validator below, which implements the subset of draft-07 that the schema uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("schema.json")
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def load_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def validate(report: Any, schema: dict | None = None) -> list[str]:
    """Every violation as 'path: message' (empty when the report is valid)."""
    schema = schema or load_schema()
    try:
        import jsonschema
    except ImportError:
        return list(_check(report, schema, schema, "$"))
    validator = jsonschema.Draft7Validator(schema)
    return [f"$/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(report)]


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def _resolve(ref: str, root: dict) -> dict:
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _check(value: Any, schema: dict, root: dict, path: str):
    if "$ref" in schema:
        yield from _check(value, _resolve(schema["$ref"], root), root, path)
        return
    for sub in schema.get("allOf", []):
        yield from _check(value, sub, root, path)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is_type(value, t) for t in types):
            yield f"{path}: {type(value).__name__} is not of type {'/'.join(types)}"
            return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path}: {value!r} is not one of {schema['enum']}"
    if "minimum" in schema and _is_type(value, "number") and value < schema["minimum"]:
        yield f"{path}: {value} is less than the minimum of {schema['minimum']}"
    if isinstance(value, dict):
        yield from _check_object(value, schema, root, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from _check(item, schema["items"], root, f"{path}/{i}")


def _check_object(value: dict, schema: dict, root: dict, path: str):
    for key in schema.get("required", []):
        if key not in value:
            yield f"{path}: '{key}' is a required property"
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            yield from _check(item, props[key], root, f"{path}/{key}")
        elif isinstance(extra, dict):
            yield from _check(item, extra, root, f"{path}/{key}")
        elif extra is False:
            yield f"{path}: additional property '{key}' is not allowed"
