"""Large annotation jobs through the provider's Batch API: upload a JSONL file, create a batch, poll, merge.

A batch is recorded in the store (`batches`, `batch_items`) right after it is created, so a killed run
picks it up again instead of paying for it twice; `batch_id` attaches to a batch made elsewhere (its texts
are read back from its input file). Merging is idempotent: a text already merged from a batch is skipped.
Lines that failed for a transient reason (429, 5xx, an expired batch) go into the next round, up to
`max_retries` rounds; then they are stored as failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .annotate import (
    AnnotateOptions,
    AnnotationError,
    Budget,
    PermanentError,
    RunSummary,
    Teacher,
    TransientError,
    classify,
    make_client,
    plan,
    prompt_for,
)
from .annotate_answers import read_completion
from .inputs import TextItem, collect
from .store import AnnotationStore, Record

logger = logging.getLogger(__name__)

TERMINAL = ("completed", "failed", "expired", "cancelled")
ENDPOINT = "/v1/chat/completions"


class BatchRunner:
    """Submits, polls and merges batches for one teacher and prompt version."""

    def __init__(
        self,
        teacher: Teacher,
        store: AnnotationStore,
        summary: RunSummary,
        budget: Budget,
        *,
        poll_interval: float,
        batch_size: int,
    ):
        self.teacher, self.store, self.summary, self.budget = teacher, store, summary, budget
        self.client, self.opts = teacher.client, teacher.opts
        self.poll_interval, self.batch_size = poll_interval, batch_size
        # request fields each batch was sent with (this process only): what `Teacher.adapt` compares against
        self.sent: dict[str, dict[str, Any]] = {}
        self.merging: str | None = None

    # -------------------------------------------------------- API calls with retries

    async def call(self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """One Batch/Files API call, retried like a chat request; returns the raw HTTP response."""

        async def attempt() -> Any:
            try:
                raw = await fn(*args, **kwargs, timeout=self.opts.timeout)
                return raw.http_response
            except Exception as exc:  # classified: transient ones are retried, the rest end the run
                err = classify(exc, self.teacher.redact)
            raise err if isinstance(err, TransientError) else AnnotationError(f"{what} failed: {err}")

        return await self._retried(what, attempt)

    async def call_json(
        self, what: str, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """`call`, then the body as a JSON object; a body that is not one is retried like a transient fault."""

        async def attempt() -> dict[str, Any]:
            response = await self.call(what, fn, *args, **kwargs)
            try:
                data = json.loads(response.text)
            except ValueError:
                data = None
            if not isinstance(data, dict):
                raise TransientError("malformed", "the server's answer is not a JSON object")
            return data

        return await self._retried(what, attempt)

    async def _retried(self, what: str, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """`attempt` under the teacher's retry policy; running out of retries ends the run."""

        def count(err: TransientError, retry: int, delay: float) -> None:
            self.summary.faults[f"batch_{err.kind}"] += 1

        try:
            return await self.teacher.policy.run(attempt, count)
        except TransientError as err:
            raise AnnotationError(f"{what} failed: {err}") from None

    # -------------------------------------------------------- submit

    async def submit(self, todo: list[TextItem]) -> list[str]:
        """Create batches for as many texts as the budget allows; returns their ids."""
        ids = []
        for start in range(0, len(todo), self.batch_size):
            chunk = [
                t
                for t in todo[start : start + self.batch_size]
                if self.budget.acquire(self.teacher.estimate(t))
            ]
            if not chunk:
                break
            ids.append(await self._submit_one(chunk))
            if self.budget.exhausted:
                break
        return ids

    async def _submit_one(self, chunk: list[TextItem]) -> str:
        lines = [
            json.dumps(
                {"custom_id": t.id, "method": "POST", "url": ENDPOINT, "body": self.teacher.body(t)},
                ensure_ascii=False,
            )
            for t in chunk
        ]
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        files = self.client.files.with_raw_response
        uploaded = await self.call_json(
            "upload", files.create, file=("emolite-batch.jsonl", payload), purpose="batch"
        )
        batches = self.client.batches.with_raw_response
        created = await self.call_json(
            "batch create",
            batches.create,
            input_file_id=uploaded["id"],
            endpoint=ENDPOINT,
            completion_window="24h",
            metadata={"emolite_prompt_version": self.teacher.spec.version[:512]},
        )
        self._record_batch(
            created["id"], uploaded["id"], created.get("status", "validating"), [(t.id, t.text, t.meta) for t in chunk]
        )
        self.sent[created["id"]] = self.teacher.body(chunk[0])
        self.summary.requests += len(chunk)
        logger.info("submitted batch %s with %d requests", created["id"], len(chunk))
        return created["id"]

    def _record_batch(self, batch_id: str, input_file_id: str, status: str, items: list) -> None:
        """Store a batch with this run's teacher and prompt, so a later run can find and merge it."""
        spec = self.teacher.spec
        self.store.add_batch(
            batch_id,
            teacher=self.opts.model,
            prompt_version=spec.version,
            mode=spec.mode,
            label_set=spec.label_set,
            input_file_id=input_file_id,
            status=status,
            items=items,
        )

    async def adopt(self, batch_id: str) -> None:
        """Record a batch created elsewhere, reading its texts back from its input file."""
        if any(b["batch_id"] == batch_id for b in self.store.batches()):
            return
        info = await self.call_json(
            "batch retrieve", self.client.batches.with_raw_response.retrieve, batch_id
        )
        content = await self.call(
            "input download", self.client.files.with_raw_response.content, info["input_file_id"]
        )
        items = []
        for line in content.text.splitlines():
            if line.strip():
                req = json.loads(line)
                text = next(m["content"] for m in req["body"]["messages"] if m["role"] == "user")
                items.append((req["custom_id"], text, {}))
        self._record_batch(batch_id, info["input_file_id"], info.get("status", "unknown"), items)

    # -------------------------------------------------------- poll and merge

    async def wait(self, batch_id: str, wait: bool) -> dict[str, Any] | None:
        """Poll a batch until it ends (None if `wait` is off and it has not ended yet)."""
        retrieve = self.client.batches.with_raw_response.retrieve
        while True:
            info = await self.call_json("batch retrieve", retrieve, batch_id)
            status = info.get("status", "unknown")
            self.store.update_batch(batch_id, status=status)
            if status in TERMINAL:
                return info
            if not wait:
                logger.info("batch %s is %s; run again to merge it", batch_id, status)
                return None
            logger.info("batch %s: %s %s", batch_id, status, info.get("request_counts") or "")
            await asyncio.sleep(self.poll_interval)

    async def merge(self, info: dict[str, Any]) -> list[TextItem]:
        """Store a finished batch's answers; returns the texts to try again (transient line failures)."""
        batch_id = self.merging = info["id"]
        items = {i: TextItem(i, text, meta) for i, text, meta in self.store.batch_items(batch_id)}
        source = f"batch:{batch_id}"
        merged = {
            r.id
            for r in self.store.records(
                status="all", teacher=self.opts.model, prompt_version=self.teacher.spec.version
            )
            if r.source == source
        }
        lines = []
        for key in ("output_file_id", "error_file_id"):
            if info.get(key):
                content = await self.call(
                    "result download", self.client.files.with_raw_response.content, info[key]
                )
                lines.extend(line for line in content.text.splitlines() if line.strip())
        records, seen = [], set(merged)
        for line in lines:
            rec = self._line_record(line, items, source, seen)
            if rec is not None:
                records.append(rec)
        self.store.save_many(records)
        for rec in records:
            self.summary.count(rec)
        self.store.update_batch(batch_id, status=info.get("status", "unknown"), merged=True)
        retry = [item for i, item in items.items() if i not in seen]
        logger.info("merged batch %s: %d answers, %d to resubmit", batch_id, len(records), len(retry))
        return retry

    def _line_record(
        self, line: str, items: dict[str, TextItem], source: str, seen: set[str]
    ) -> Record | None:
        """A record from one output/error line, or None when the line is a transient failure (to resubmit)."""
        try:
            obj = json.loads(line)
            item = items[obj["custom_id"]]
        except (ValueError, KeyError, TypeError):
            self.summary.faults["batch_bad_line"] += 1
            return None
        if item.id in seen:
            return None
        response = obj.get("response") or {}
        status, body = response.get("status_code"), response.get("body")
        if status == 200 and isinstance(body, dict):
            try:
                _, usage = read_completion(body)
            except ValueError:
                self.summary.faults["malformed"] += 1
                return None
            self.summary.prompt_tokens += usage["prompt_tokens"]
            self.summary.completion_tokens += usage["completion_tokens"]
            seen.add(item.id)
            return self.teacher.record(item, body, json.dumps(body), 1, usage, source)
        message = json.dumps(body or obj.get("error"), ensure_ascii=False)[:500]
        err = _line_error(status, message)
        sent = self.sent.get(self.merging) or self.teacher.body(item)
        if isinstance(err, TransientError) or (
            isinstance(err, PermanentError) and self.teacher.adapt(err, sent)
        ):
            self.summary.faults[err.kind] += 1
            return None
        seen.add(item.id)
        return self.teacher.failure(item, str(err), 1, {}, source, message)



def _line_error(status: Any, message: str) -> Exception:
    if isinstance(status, int) and status not in (429, 408, 409) and 400 <= status < 500:
        return PermanentError(f"http_{status}", f"http_{status}: {message}", message)
    return TransientError(str(status or "batch_error"), f"batch line failed ({status}): {message}")


async def annotate_batch_async(
    items: Iterable[Any],
    store: AnnotationStore,
    opts: AnnotateOptions,
    *,
    batch_id: str | None = None,
    wait: bool = True,
    poll_interval: float = 30.0,
    batch_size: int = 50_000,
) -> RunSummary:
    """Annotate through the Batch API; resumes the store's unmerged batches (and `batch_id`) first."""
    items = collect(items)  # read once: it is planned now and counted again at the end
    spec = prompt_for(opts)
    summary = RunSummary()
    client, redact = make_client(opts)
    started = time.monotonic()
    budget = Budget(opts.max_requests, opts.max_tokens)
    runner = BatchRunner(
        Teacher(client, redact, opts, spec),
        store,
        summary,
        budget,
        poll_interval=poll_interval,
        batch_size=batch_size,
    )
    try:
        if batch_id:
            await runner.adopt(batch_id)
        # Plan before merging open batches, so texts they answer count as this run's, not as skipped.
        todo = _not_in_open_batches(plan(items, store, spec, opts, summary), store, opts.model, spec.version)
        retry = await _resume(runner, wait)
        await _rounds(runner, todo, retry, wait)
    finally:
        await client.close()
        summary.seconds = time.monotonic() - started
        summary.stopped = budget.exhausted
        summary.pending = _pending(store, opts.model, spec.version, items)
    return summary


async def _resume(runner: BatchRunner, wait: bool) -> list[TextItem]:
    retry: list[TextItem] = []
    for batch in runner.store.batches(runner.opts.model, runner.teacher.spec.version, open_only=True):
        info = await runner.wait(batch["batch_id"], wait)
        if info is not None:
            retry += await runner.merge(info)
    return retry


async def _rounds(runner: BatchRunner, todo: list[TextItem], retry: list[TextItem], wait: bool) -> None:
    """Submit, wait, merge; resubmit transient failures until each text had 1 + max_retries rounds."""
    tries = {**{t.id: 0 for t in todo}, **{t.id: 1 for t in retry}}  # a resumed batch was one round
    limit = runner.opts.max_retries
    queue = list({t.id: t for t in [*todo, *retry]}.values())
    while queue:
        _give_up(runner, [t for t in queue if tries[t.id] > limit], limit + 1)
        queue = [t for t in queue if tries[t.id] <= limit]
        if not queue or runner.budget.exhausted:
            return
        runner.summary.retries += sum(1 for t in queue if tries[t.id])
        ids = await runner.submit(queue)
        if not wait:
            return
        queue = []
        for bid in ids:
            queue += await runner.merge(await runner.wait(bid, True))
        for t in queue:
            tries[t.id] += 1


def _give_up(runner: BatchRunner, items: list[TextItem], tries: int) -> None:
    failures = [
        runner.teacher.failure(
            t, f"out_of_retries: transient batch failures in {tries} rounds", tries, {}, "batch"
        )
        for t in items
    ]
    runner.store.save_many(failures)
    for rec in failures:
        runner.summary.count(rec)


def _not_in_open_batches(
    todo: list[TextItem], store: AnnotationStore, teacher: str, version: str
) -> list[TextItem]:
    busy = {
        i
        for b in store.batches(teacher, version, open_only=True)
        for i, _, _ in store.batch_items(b["batch_id"])
    }
    return [t for t in todo if t.id not in busy]


def _pending(store: AnnotationStore, teacher: str, version: str, items: list[TextItem]) -> int:
    have = store.statuses(teacher, version)
    return sum(1 for t in items if t.id not in have)
