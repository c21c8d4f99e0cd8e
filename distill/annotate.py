"""Stage 1 of distillation: a teacher LLM annotates texts, through any OpenAI-compatible chat-completions API.

    from emolite.distill.annotate import AnnotateOptions, annotate
    from emolite.distill.store import AnnotationStore
    summary = annotate(["I can't wait!"], AnnotationStore("s.sqlite"), AnnotateOptions(model="gpt-4o"))

Each answer is committed to the store as it arrives; a restarted run skips what the store holds, so a killed
run resumes without asking the teacher twice. Transient faults (429, 408/409, 5xx, timeouts, dropped
connections, malformed bodies) are retried with exponential backoff and jitter, waiting at least as long as
`Retry-After` says; after `max_retries` retries the text is stored as failed with the last fault. Refusals,
content-filter stops and answers that are not the asked-for JSON are stored as failures with the raw answer
and retried only when asked (`retry_failed`). `max_requests` / `max_tokens` stop the run before a request
that could cross them; texts not reached stay absent from the store (pending), never half-written.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from emolite.errors import EmoliteError

from .annotate_answers import (
    AnswerError,
    PromptSpec,
    build_prompt,
    parse_message,
    read_completion,
    response_format,
)
from .inputs import TextItem, collect
from .store import AnnotationStore, Record

logger = logging.getLogger(__name__)
T = TypeVar("T")

RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")
# Typical answer length in tokens, for the dry-run estimate (the upper bound uses max_answer_tokens).
TYPICAL_ANSWER_TOKENS = {"descriptors": 25, "labels": 12, "rationale": 35}
MESSAGE_OVERHEAD_TOKENS = 11  # chat format tokens around two messages


class AnnotationError(EmoliteError, RuntimeError):
    """A run that cannot go on: no key, a rejected key, an unknown model (every text would fail the same)."""


class MissingAPIKeyError(AnnotationError):
    """The environment variable that should hold the API key is not set."""


@dataclass
class AnnotateOptions:
    """How to reach the teacher and how hard to try. Secrets never live here: only the variable's name."""

    model: str
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    mode: str = "descriptors"
    labels: Any = None  # label-set name or list of labels (labels mode)
    prompt_version: str | None = None  # template name; default per mode
    rationale: bool = False
    concurrency: int = 8
    timeout: float = 60.0  # seconds per request
    max_retries: int = 6  # retries after the first try, per text
    backoff_base: float = 1.0  # first backoff in seconds; doubles each retry
    backoff_max: float = 60.0
    max_requests: int | None = None  # requests this run may send (tries, retries included)
    max_tokens: int | None = None  # prompt + completion tokens this run may spend
    max_answer_tokens: int = 256
    temperature: float | None = 0.0
    seed: int | None = 42
    response_format: str = "auto"
    retry_failed: bool = False
    progress: bool | None = None  # None: a bar only when stderr is a terminal
    price_prompt: float | None = None  # USD per million prompt tokens (for --dry-run)
    price_completion: float | None = None

    def __post_init__(self) -> None:
        if self.response_format not in RESPONSE_FORMATS:
            raise ValueError(
                f"response_format must be one of {RESPONSE_FORMATS}, not {self.response_format!r}"
            )
        for name in ("concurrency", "max_answer_tokens"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_retries < 0 or self.timeout <= 0 or self.backoff_base < 0:
            raise ValueError("max_retries must be >= 0, timeout > 0 and backoff_base >= 0")


@dataclass
class RunSummary:
    """Counts of one run; `requests` includes retries, tokens are the API's usage fields."""

    total: int = 0
    skipped_done: int = 0
    skipped_failed: int = 0
    done: int = 0
    failed: int = 0
    pending: int = 0
    requests: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    faults: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    stopped: str | None = None  # "max_requests" | "max_tokens" | None
    seconds: float = 0.0

    def line(self) -> str:
        skipped = self.skipped_done + self.skipped_failed
        text = (
            f"done {self.done}, failed {self.failed}, skipped {skipped}, pending {self.pending}"
            f" | requests {self.requests} (retries {self.retries})"
            f" | tokens {self.prompt_tokens} prompt + {self.completion_tokens} completion"
            f" | {self.seconds:.1f}s"
        )
        return text + (f" | stopped: {self.stopped} reached" if self.stopped else "")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "faults": dict(self.faults), "failures": dict(self.failures)}

    def count(self, rec: Record) -> None:
        """Count a stored record as done, or as failed under its reason (the error up to the first colon)."""
        if rec.status == "done":
            self.done += 1
        else:
            self.failed += 1
            self.failures[(rec.error or "").split(":", 1)[0]] += 1


# ---------------------------------------------------------------- retries


class TransientError(Exception):
    """A fault worth another try: `kind` names it (429, 503, timeout, connection, malformed...)."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.retry_after = kind, retry_after


class PermanentError(Exception):
    """A fault of this one request that another try would repeat (400, 413, 422...)."""

    def __init__(self, kind: str, message: str, body: str | None = None):
        super().__init__(message)
        self.kind, self.body = kind, body


@dataclass
class RetryPolicy:
    """How both annotators (live and Batch API) retry transient faults: one loop, one backoff."""

    max_retries: int = 6
    base: float = 1.0
    cap: float = 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Exponential backoff with equal jitter; never shorter than the server's Retry-After."""
        step = min(self.cap, self.base * 2 ** (retry - 1))
        backoff = step / 2 + random.uniform(0, step / 2)
        return max(backoff, retry_after or 0.0)

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        on_retry: Callable[[TransientError, int, float], None] | None = None,
    ) -> T:
        """Await `attempt()` until it returns. A TransientError is retried after `delay` (at most
        `max_retries` times, then raised); `on_retry(error, retry, delay)` runs before each wait."""
        retry = 0
        while True:
            try:
                return await attempt()
            except TransientError as err:
                if retry >= self.max_retries:
                    raise
                retry += 1
                wait = self.delay(retry, err.retry_after)
                if on_retry is not None:
                    on_retry(err, retry, wait)
            await asyncio.sleep(wait)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None when absent or bad."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            date = email.utils.parsedate_tz(value)
            seconds = email.utils.mktime_tz(date) - time.time() if date else math.nan
        if math.isfinite(seconds):
            return min(max(seconds, 0.0), 3600.0)
    return None


class Redactor:
    """Removes a secret from any text before it is logged, stored or raised."""

    def __init__(self, secret: str | None):
        self.secret = secret if secret and len(secret) >= 4 else None

    def __call__(self, text: Any) -> str:
        text = str(text)
        return text.replace(self.secret, "[redacted]") if self.secret else text


def classify(exc: BaseException, redact: Redactor) -> Exception:
    """Map an openai client exception to TransientError, PermanentError or AnnotationError (fatal)."""
    import openai

    if isinstance(exc, (TransientError, PermanentError, AnnotationError)):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return TransientError("timeout", "no answer within the request timeout")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return TransientError(
            "connection", redact(f"connection error: {type(cause).__name__}: {cause}")[:300]
        )
    if isinstance(exc, openai.APIStatusError):
        status, body = exc.status_code, redact(_body_text(exc.response))
        message = f"http_{status}: {_error_message(body)}"
        if status in (429, 408, 409) or status >= 500:
            return TransientError(str(status), message, parse_retry_after(exc.response.headers))
        if status in (401, 403, 404):
            return AnnotationError(
                f"the teacher server refused the run ({message}); check the model name, "
                "the base URL and the API key"
            )
        if "content_filter" in body or "content management policy" in body:  # Azure filters the prompt
            return PermanentError(f"http_{status}", f"content_filter: {message}", body)
        return PermanentError(f"http_{status}", message, body)
    if isinstance(exc, (ValueError, UnicodeDecodeError)):
        return TransientError("malformed", redact(f"malformed response body: {exc}")[:300])
    return exc if isinstance(exc, Exception) else TransientError("unknown", repr(exc))


def _body_text(response: Any) -> str:
    try:
        return response.text
    except Exception:  # a body that cannot be read is no reason to lose the status code
        return ""


def _error_message(body: str) -> str:
    try:
        data = json.loads(body)
        msg = data.get("error", data) if isinstance(data, dict) else data
        msg = msg.get("message", msg) if isinstance(msg, dict) else msg
        return str(msg)[:300]
    except (ValueError, AttributeError):
        return body.strip()[:300] or "(empty body)"


# ---------------------------------------------------------------- budget


class Budget:
    """Request and token caps. A request reserves its worst case (prompt + max answer) before it is sent."""

    def __init__(self, max_requests: int | None, max_tokens: int | None):
        self.max_requests, self.max_tokens = max_requests, max_tokens
        self.requests = self.tokens = self.reserved = 0
        self.exhausted: str | None = None

    def acquire(self, estimate: int) -> bool:
        if self.exhausted:
            return False
        if self.max_requests is not None and self.requests >= self.max_requests:
            self.exhausted = "max_requests"
        elif self.max_tokens is not None and self.tokens + self.reserved + estimate > self.max_tokens:
            self.exhausted = "max_tokens"
        else:
            self.requests += 1
            self.reserved += estimate
            return True
        return False

    def settle(self, estimate: int, used: int) -> None:
        self.reserved -= estimate
        self.tokens += used


def approx_tokens(text: str) -> int:
    """Token count: tiktoken's when installed, else the usual four characters a token."""
    try:
        import tiktoken  # optional

        return len(tiktoken.get_encoding("o200k_base").encode(text))
    except Exception:  # not installed, or its encoding file is not available offline
        return max(1, math.ceil(len(text) / 4))


# ---------------------------------------------------------------- the teacher


def make_client(opts: AnnotateOptions, *, asynchronous: bool = True):
    """An openai client with its own retries off: this module retries, counts tries and honours budgets.

    The client's built-in retry would hide the tries from the budget and the store, cannot retry a 200 with
    a malformed body, and its backoff base is a module constant; so max_retries=0 and the loop is ours.
    """
    import openai

    key = os.environ.get(opts.api_key_env)
    if not key:
        if not opts.base_url:
            raise MissingAPIKeyError(
                f"no API key: set the {opts.api_key_env} environment variable "
                "(or name another one with --api-key-env)"
            )
        logger.info("%s is not set; sending no key to %s", opts.api_key_env, opts.base_url)
        key = "no-key"
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(api_key=key, base_url=opts.base_url, max_retries=0, timeout=opts.timeout), Redactor(key)


class Teacher:
    """One model behind one client: builds requests, retries them, turns answers into store records."""

    def __init__(self, client: Any, redact: Redactor, opts: AnnotateOptions, spec: PromptSpec):
        self.client, self.redact, self.opts, self.spec = client, redact, opts, spec
        self.policy = RetryPolicy(opts.max_retries, opts.backoff_base, opts.backoff_max)
        self.format = "json_schema" if opts.response_format == "auto" else opts.response_format
        self.params = {
            "max_tokens": opts.max_answer_tokens,
            "temperature": opts.temperature,
            "seed": opts.seed,
        }

    def body(self, item: TextItem) -> dict[str, Any]:
        """The chat-completions request body for one text (also a Batch API line's body)."""
        body: dict[str, Any] = {
            "model": self.opts.model,
            "messages": [
                {"role": "system", "content": self.spec.system},
                {"role": "user", "content": item.text},
            ],
            **{k: v for k, v in self.params.items() if v is not None},
        }
        fmt = response_format(self.spec, self.format)
        if fmt:
            body["response_format"] = fmt
        return body

    def estimate(self, item: TextItem) -> int:
        """Worst-case tokens of one request, reserved against --max-tokens before it is sent."""
        return (
            self.system_tokens
            + approx_tokens(item.text)
            + MESSAGE_OVERHEAD_TOKENS
            + self.opts.max_answer_tokens
        )

    @property
    def system_tokens(self) -> int:
        if not hasattr(self, "_system_tokens"):
            self._system_tokens = approx_tokens(self.spec.system)
        return self._system_tokens

    def adapt(self, error: PermanentError, sent: dict[str, Any]) -> bool:
        """True if a 400 names an optional request field and the next request differs in it from `sent`.

        Servers differ: some lack JSON-schema output, reasoning models want max_completion_tokens and the
        default temperature, some gateways reject `seed`. Each field is changed once, by whichever request
        reports it first; requests already in flight with the old field only need resending.
        """
        if error.kind != "http_400":
            return False
        text = f"{error} {error.body or ''}".lower()
        if "response_format" in text or "json_schema" in text or "json_object" in text:
            sent_format = (sent.get("response_format") or {}).get("type", "none")
            if sent_format != self.format:
                return True
            if self.opts.response_format != "auto" or self.format == "none":
                return False
            self.format = {"json_schema": "json_object", "json_object": "none"}[self.format]
            logger.warning("the server rejected the response format; falling back to %s", self.format)
            return True
        for name, change in (("max_tokens", "max_completion_tokens"), ("temperature", None), ("seed", None)):
            if name in text and name in sent:
                if name in self.params:
                    value = self.params.pop(name)
                    if change:
                        self.params[change] = value
                    logger.warning(
                        "the server rejected %r; %s", name, f"sending {change}" if change else "dropping it"
                    )
                return True
        return False

    async def complete(self, item: TextItem) -> tuple[dict[str, Any], str]:
        """One try: POST the request, return (parsed JSON body, raw body text); raises classified errors.

        A classified error carries the request body in `.sent`, so `adapt` can tell what was sent.
        """
        body = self.body(item)
        try:
            raw = await self.client.chat.completions.with_raw_response.create(
                **body, timeout=self.opts.timeout
            )
            text = raw.http_response.text
            return json.loads(text), text
        except Exception as exc:  # classified below; anything unknown propagates unchanged
            err = classify(exc, self.redact)
            err.sent = body
            raise err from None

    def record(
        self,
        item: TextItem,
        data: dict[str, Any],
        raw: str,
        attempts: int,
        usage: dict[str, int],
        source: str,
    ) -> Record:
        """A done or failed record from a chat-completion body (ValueError if the body is not one)."""
        message, _ = read_completion(data)
        rec = self._record(item, "done", attempts, usage, source)
        content = message.get("content")
        rec.raw = self.redact(content if isinstance(content, str) else raw)[:4000]
        try:
            parsed = parse_message(message, self.spec)
        except AnswerError as exc:
            rec.status, rec.error = "failed", self.redact(f"{exc.reason}: {exc.detail}")[:1000]
            return rec
        rec.descriptors, rec.labels, rec.rationale = (
            parsed["descriptors"],
            parsed["labels"],
            parsed["rationale"],
        )
        return rec

    def failure(
        self,
        item: TextItem,
        error: str,
        attempts: int,
        usage: dict[str, int],
        source: str,
        raw: str | None = None,
    ) -> Record:
        rec = self._record(item, "failed", attempts, usage, source)
        rec.error = self.redact(error)[:1000]
        rec.raw = self.redact(raw)[:4000] if raw else None
        return rec

    def _record(self, item: TextItem, status: str, attempts: int, usage: dict[str, int], source: str) -> Record:
        return Record(
            id=item.id,
            text=item.text,
            teacher=self.opts.model,
            prompt_version=self.spec.version,
            mode=self.spec.mode,
            label_set=self.spec.label_set,
            status=status,
            attempts=attempts,
            usage=usage,
            source=source,
            meta=item.meta,
        )


# ---------------------------------------------------------------- the live run


class Annotator:
    """Runs texts through a Teacher with bounded concurrency, saving each record as it arrives."""

    def __init__(self, teacher: Teacher, store: AnnotationStore, budget: Budget, summary: RunSummary):
        self.teacher, self.store, self.budget, self.summary = teacher, store, budget, summary
        self.fatal: Exception | None = None
        self.bar = None

    async def run(self, todo: list[TextItem]) -> None:
        from tqdm import tqdm

        items = iter(todo)
        with tqdm(
            total=len(todo),
            unit="text",
            disable=_no_bar(self.teacher.opts.progress),
            smoothing=0.05,
            dynamic_ncols=True,
        ) as self.bar:
            workers = [self._worker(items) for _ in range(min(self.teacher.opts.concurrency, len(todo) or 1))]
            await asyncio.gather(*workers)
        if self.fatal:
            raise self.fatal

    async def _worker(self, items) -> None:
        for item in items:
            if self.fatal or self.budget.exhausted:
                return
            try:
                rec = await self.one(item)
            except AnnotationError as exc:
                self.fatal = exc
                return
            if rec is None:  # budget reached before this text got an answer: it stays pending
                return
            self.store.save(rec)
            self._count(rec)

    def _count(self, rec: Record) -> None:
        self.summary.count(rec)
        self.bar.update(1)
        self.bar.set_postfix(done=self.summary.done, failed=self.summary.failed, refresh=False)

    async def one(self, item: TextItem) -> Record | None:
        """Try one text until it has an answer, a final failure, or the budget stops it (None)."""
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        tries = 0

        async def attempt() -> Record | None:
            nonlocal tries
            while True:  # a 400 that names an optional request field is sent again at once, adapted
                estimate = self.teacher.estimate(item)
                if self.fatal or not self.budget.acquire(estimate):
                    return None
                tries += 1
                self.summary.requests += 1
                try:
                    data, raw = await self.teacher.complete(item)
                    _, used = read_completion(data)
                except ValueError as exc:  # 200 with a body that is not a chat completion
                    err: Exception = TransientError("malformed", f"malformed response body: {exc}")
                except (TransientError, PermanentError) as exc:
                    err = exc
                else:
                    self._use(usage, used, estimate)
                    return self.teacher.record(item, data, raw, tries, usage, "api")
                self.budget.settle(estimate, 0)
                if isinstance(err, TransientError):
                    self.summary.faults[err.kind] += 1
                    raise err
                if not self.teacher.adapt(err, getattr(err, "sent", {})):
                    return self.teacher.failure(item, str(err), tries, usage, "api", err.body)

        def retrying(err: TransientError, retry: int, delay: float) -> None:
            self.summary.retries += 1
            logger.debug("text %s: %s; retry %d in %.2fs", item.id, err, retry, delay)

        try:
            return await self.teacher.policy.run(attempt, retrying)
        except TransientError as last:
            return self.teacher.failure(item, f"out_of_retries: {last} (after {tries} tries)", tries, usage, "api")

    def _use(self, usage: dict[str, int], used: dict[str, int], estimate: int) -> None:
        for key in usage:
            usage[key] += used.get(key, 0)
        self.summary.prompt_tokens += used.get("prompt_tokens", 0)
        self.summary.completion_tokens += used.get("completion_tokens", 0)
        self.budget.settle(estimate, sum(used.values()))


def _no_bar(progress: bool | None) -> bool | None:
    return None if progress is None else not progress


# ---------------------------------------------------------------- public entry points


def plan(
    items: Iterable[Any], store: AnnotationStore, spec: PromptSpec, opts: AnnotateOptions, summary: RunSummary
) -> list[TextItem]:
    """The texts still to ask: all of them minus those the store holds (failed ones too, unless retrying)."""
    texts = collect(items)
    status = store.statuses(opts.model, spec.version)
    todo = []
    for item in texts:
        seen = status.get(item.id)
        if seen == "done":
            summary.skipped_done += 1
        elif seen == "failed" and not opts.retry_failed:
            summary.skipped_failed += 1
        else:
            todo.append(item)
    summary.total = len(texts)
    return todo


def prompt_for(opts: AnnotateOptions) -> PromptSpec:
    return build_prompt(opts.mode, opts.labels, opts.prompt_version, opts.rationale)


def annotate(items: Iterable[Any], store: AnnotationStore, opts: AnnotateOptions) -> RunSummary:
    """Annotate texts (strings, (id, text) pairs, dicts or TextItems) into the store; returns the counts."""
    return asyncio.run(annotate_async(items, store, opts))


async def annotate_async(items: Iterable[Any], store: AnnotationStore, opts: AnnotateOptions) -> RunSummary:
    spec = prompt_for(opts)
    summary = RunSummary()
    todo = plan(items, store, spec, opts, summary)
    if not todo:
        return summary
    client, redact = make_client(opts)
    started = time.monotonic()
    budget = Budget(opts.max_requests, opts.max_tokens)
    try:
        await Annotator(Teacher(client, redact, opts, spec), store, budget, summary).run(todo)
    finally:
        await client.close()
        summary.seconds = time.monotonic() - started
        summary.pending = len(todo) - summary.done - summary.failed
        summary.stopped = budget.exhausted
    return summary


def estimate(items: Iterable[Any], store: AnnotationStore, opts: AnnotateOptions) -> dict[str, Any]:
    """What a run would send, without sending anything: requests, tokens (typical and worst case), cost."""
    spec = prompt_for(opts)
    summary = RunSummary()
    todo = plan(items, store, spec, opts, summary)
    system = approx_tokens(spec.system)
    prompt = sum(system + approx_tokens(t.text) + MESSAGE_OVERHEAD_TOKENS for t in todo)
    typical = TYPICAL_ANSWER_TOKENS[spec.mode] + (TYPICAL_ANSWER_TOKENS["rationale"] if spec.rationale else 0)
    out = {
        "model": opts.model,
        "prompt_version": spec.version,
        "texts": summary.total,
        "skipped_done": summary.skipped_done,
        "skipped_failed": summary.skipped_failed,
        "requests": len(todo),
        "prompt_tokens": prompt,
        "completion_tokens": typical * len(todo),
        "completion_tokens_max": opts.max_answer_tokens * len(todo),
        "tokenizer": "approximate (4 characters a token)" if _no_tiktoken() else "tiktoken o200k_base",
    }
    if opts.price_prompt is not None and opts.price_completion is not None:
        out["cost_usd"] = round(
            (prompt * opts.price_prompt + out["completion_tokens"] * opts.price_completion) / 1e6, 4
        )
        out["cost_usd_max"] = round(
            (prompt * opts.price_prompt + out["completion_tokens_max"] * opts.price_completion) / 1e6, 4
        )
    return out


def _no_tiktoken() -> bool:
    try:
        import tiktoken  # noqa: F401
    except ImportError:
        return True
    return False
