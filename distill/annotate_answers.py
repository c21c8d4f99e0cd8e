"""What the teacher is asked and how its answer is read: versioned prompts, the request body, defensive parsing.

Prompts are text templates in `prompts/` (`descriptors-v1.txt`, `labels-v1.txt`); the file stem is the
prompt version recorded with every answer. In `labels` mode the label set is part of the prompt, so it is
part of the version too (`labels-v1:ekman`, `labels-v1:custom-<hash>`): two label sets never share a row.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

from emolite.catalog import LABEL_SETS
from emolite.errors import EmoliteError

MODES = ("descriptors", "labels")
DEFAULT_PROMPTS = {"descriptors": "descriptors-v1", "labels": "labels-v1"}
MAX_DESCRIPTORS = 12
MAX_DESCRIPTOR_WORDS = 4
MAX_DESCRIPTOR_CHARS = 40
MAX_RATIONALE_CHARS = 300


class PromptError(EmoliteError, ValueError):
    """An unknown mode, prompt version or label set."""


class AnswerError(Exception):
    """A teacher answer that is not a usable annotation; `reason` is the failure class stored with the text."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class PromptSpec:
    """A rendered prompt: everything that decides what the teacher is asked."""

    mode: str
    version: str  # recorded in the store; includes the label set in labels mode
    system: str
    schema: dict[str, Any]
    label_set: str | None = None
    labels: tuple[str, ...] = ()
    rationale: bool = False
    multi_label: bool = True


def available_prompts() -> list[str]:
    folder = resources.files("emolite.distill") / "prompts"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


def _template(version: str) -> string.Template:
    path = resources.files("emolite.distill") / "prompts" / f"{version}.txt"
    if not path.is_file():
        raise PromptError(f"unknown prompt version {version!r}; available: {', '.join(available_prompts())}")
    return string.Template(path.read_text(encoding="utf-8").strip())


def resolve_labels(
    labels: str | list[str] | tuple[str, ...] | None,
) -> tuple[str | None, tuple[str, ...], bool]:
    """A label-set name (see `emolite labels`) or a list of label words -> (set name, labels, multi-label)."""
    if labels is None or labels == "":
        raise PromptError("labels mode needs --labels: a label-set name or a comma-separated list of labels")
    if isinstance(labels, str) and "," not in labels:
        if labels not in LABEL_SETS:
            raise PromptError(f"unknown label set {labels!r}; known: {', '.join(LABEL_SETS)} (or give a,b,c)")
        spec = LABEL_SETS[labels]
        return spec.name, tuple(spec.labels), spec.multi_label
    words = labels.split(",") if isinstance(labels, str) else list(labels)
    words = list(dict.fromkeys(w.strip().lower() for w in words if w.strip()))
    if len(words) < 2:
        raise PromptError("a custom label list needs at least two labels")
    digest = hashlib.sha256(",".join(words).encode()).hexdigest()[:8]
    return f"custom-{digest}", tuple(words), True


def build_prompt(
    mode: str = "descriptors", labels=None, version: str | None = None, rationale: bool = False
) -> PromptSpec:
    """Render the prompt template of `mode` (or the given version) for a label set."""
    if mode not in MODES:
        raise PromptError(f"mode must be one of {MODES}, not {mode!r}")
    version = version or DEFAULT_PROMPTS[mode]
    template = _template(version)
    rationale_rule = " Add a one-sentence rationale." if rationale else ""
    if mode == "descriptors":
        form = {"descriptors": ["...", "..."], **({"rationale": "..."} if rationale else {})}
        system = template.substitute(rationale_rule=rationale_rule, answer_form=json.dumps(form))
        return PromptSpec(mode, version, system, _schema("descriptors", None, rationale), rationale=rationale)
    set_name, words, multi = resolve_labels(labels)
    form = {"labels": ["..."] if multi else ["one label"], **({"rationale": "..."} if rationale else {})}
    choice = (
        "Choose every label from the list that the writer expresses."
        if multi
        else "Choose the single label from the list that best fits the writer's emotion."
    )
    neutral = ' Choose "neutral" alone when no emotion is clear.' if "neutral" in words else ""
    system = template.substitute(
        labels=", ".join(words),
        choice_rule=choice,
        neutral_rule=neutral,
        rationale_rule=rationale_rule,
        answer_form=json.dumps(form),
    )
    return PromptSpec(
        mode,
        f"{version}:{set_name}",
        system,
        _schema("labels", words, rationale),
        set_name,
        words,
        rationale,
        multi,
    )


def _schema(mode: str, labels: tuple[str, ...] | None, rationale: bool) -> dict[str, Any]:
    items: dict[str, Any] = {"type": "string"}
    if labels:
        items["enum"] = list(labels)
    props: dict[str, Any] = {mode: {"type": "array", "items": items}}
    if rationale:
        props["rationale"] = {"type": "string"}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def response_format(spec: PromptSpec, kind: str) -> dict[str, Any] | None:
    """The `response_format` request field: "json_schema", "json_object" or "none" (plain text)."""
    if kind == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": f"emotion_{spec.mode}", "schema": spec.schema, "strict": True},
        }
    if kind == "json_object":
        return {"type": "json_object"}
    return None


# ---------------------------------------------------------------- reading answers


def read_completion(data: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """(message, usage) from a chat-completion body; raises ValueError when the body is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
        raise ValueError("response has no choices")
    choice = data["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise ValueError("response choice has no message")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tokens = {k: int(usage.get(k) or 0) for k in ("prompt_tokens", "completion_tokens")}
    return {**message, "finish_reason": choice.get("finish_reason")}, tokens


_REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|sorry,|i can(?:'|no)t|i cannot|i won'?t|as an ai)", re.I)


def parse_message(message: dict[str, Any], spec: PromptSpec) -> dict[str, Any]:
    """Annotation fields from an assistant message, or AnswerError(refusal|content_filter|unparseable|...)."""
    refusal = message.get("refusal")
    if refusal:
        raise AnswerError("refusal", str(refusal)[:500])
    content = message.get("content")
    if message.get("finish_reason") == "content_filter":
        raise AnswerError("content_filter", "the server's content filter stopped the answer")
    if not isinstance(content, str) or not content.strip():
        raise AnswerError("empty", f"no answer text (finish_reason {message.get('finish_reason')!r})")
    try:
        obj = extract_json(content)
    except ValueError as exc:
        if message.get("finish_reason") == "length":
            raise AnswerError("truncated", "the answer hit the token limit before its JSON closed") from None
        if _REFUSAL.match(content):
            raise AnswerError("refusal", content.strip()[:500]) from None
        raise AnswerError("unparseable", str(exc)) from None
    return normalise(obj, spec)


def extract_json(content: str) -> Any:
    """The JSON value in an answer: bare, in a ``` fence, or the first {...} / [...] inside prose."""
    text = content.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S | re.I)
    candidates = [text] + ([fence.group(1).strip()] if fence else [])
    for opener in "{[":
        start = text.find(opener)
        if start >= 0:
            candidates.append(text[start:])
    decoder = json.JSONDecoder()
    for cand in candidates:
        try:
            return decoder.raw_decode(cand)[0]
        except json.JSONDecodeError:
            continue
    raise ValueError("the answer is not JSON")


def normalise(obj: Any, spec: PromptSpec) -> dict[str, Any]:
    """Check the answer's shape and clean its items: lower-case, trimmed, deduplicated, within limits."""
    key = spec.mode
    if isinstance(obj, list):  # a bare list is the intended array without its wrapper
        obj = {key: obj}
    if not isinstance(obj, dict):
        raise AnswerError("schema", f"expected a JSON object with {key!r}, got {type(obj).__name__}")
    if key not in obj:
        for alt in ("emotions", "descriptors", "labels", "label"):
            if alt in obj:
                obj = {**obj, key: obj[alt]}
                break
        else:
            raise AnswerError("schema", f"the answer has no {key!r} field (fields: {sorted(obj)})")
    items = obj[key]
    if isinstance(items, str):
        items = [x for x in re.split(r"[,;]", items)]
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise AnswerError("schema", f"{key!r} must be a list of strings")
    out = {"descriptors": [], "labels": [], "rationale": _rationale(obj.get("rationale"))}
    out[key] = _clean_descriptors(items) if key == "descriptors" else _clean_labels(items, spec)
    return out


def _clean_descriptors(items: list[str]) -> list[str]:
    words = []
    for item in items:
        d = re.sub(r"\s+", " ", item.strip().strip(".,;:!?\"'()[]").lower()).strip()
        if d and len(d) <= MAX_DESCRIPTOR_CHARS and len(d.split()) <= MAX_DESCRIPTOR_WORDS:
            words.append(d)
    words = list(dict.fromkeys(words))
    if len(words) > 1 and "neutral" in words:  # neutral means "no emotion": it cannot stand beside one
        words.remove("neutral")
    if not words:
        raise AnswerError("schema", "no usable descriptor in the answer")
    return words[:MAX_DESCRIPTORS]


def _clean_labels(items: list[str], spec: PromptSpec) -> list[str]:
    known = {w.lower(): w for w in spec.labels}
    picked = [known[x.strip().lower()] for x in items if x.strip().lower() in known]
    picked = list(dict.fromkeys(picked))
    if not picked:
        raise AnswerError("schema", f"no label from the label set in {items[:8]}")
    if len(picked) > 1 and "neutral" in picked:
        picked.remove("neutral")
    return picked if spec.multi_label else picked[:1]


def _rationale(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.split())[:MAX_RATIONALE_CHARS]
