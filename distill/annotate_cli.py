"""`emolite annotate` and `emolite annotations ...`: teacher annotation and the store it fills.

Imports nothing heavy at module import: the openai client loads only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

EXTRA = "distill"  # the pip extra these commands need
REQUIRES = ("openai",)


def register(sub) -> None:
    _register_annotate(sub)
    p = sub.add_parser(
        "annotations",
        help="inspect and import teacher annotations",
        description="Import, dump and count the records of an annotation store.",
    )
    cmds = p.add_subparsers(dest="annotations_command", metavar="SUBCOMMAND")
    cmds.required = True

    q = cmds.add_parser(
        "import-goemotions-gpt4",
        help="import the GPT-4 GoEmotions annotations (dev/test CSV, train TSV)",
        description="Import chailab-umich GPT-4 GoEmotions annotations as teacher 'gpt-4', mode 'labels': "
        "goemotions_complete_{val,test}_annotations.csv and goemotions_complete_train_gpt_labels.tsv (its "
        "texts are read from goemotions/train.tsv). Failed annotations are kept as failed records. Human "
        "labels are never imported.",
    )
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("--store", required=True, help="annotation store (SQLite file; created if missing)")
    q.set_defaults(func=cmd_import_goemotions)

    q = cmds.add_parser("dump", help="records as JSON lines")
    q.add_argument("store", metavar="STORE")
    q.add_argument("--status", choices=("done", "failed", "all"), default="all")
    q.add_argument("--teacher", default=None)
    q.add_argument("--prompt-version", default=None)
    q.add_argument("--mode", choices=("descriptors", "labels"), default=None)
    q.set_defaults(func=cmd_dump)

    q = cmds.add_parser("stats", help="row, failure and token counts")
    q.add_argument("store", metavar="STORE")
    q.add_argument("--json", action="store_true", help="one JSON object")
    q.set_defaults(func=cmd_stats)


def _register_annotate(sub) -> None:
    p = sub.add_parser(
        "annotate",
        help="annotate texts with a teacher LLM (OpenAI-compatible API)",
        description="Ask a teacher LLM for emotion annotations of texts and store each answer as it arrives. "
        "A run resumes where a previous one stopped; the API key is read from an environment "
        "variable and never written anywhere.",
    )
    p.add_argument("input", metavar="INPUT", help=".txt (one text a line), .jsonl, .csv or .tsv")
    p.add_argument("--store", required=True, help="annotation store (SQLite file; created if missing)")
    p.add_argument("--model", required=True, help="teacher model name, e.g. gpt-4o")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    p.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="variable holding the key (default %(default)s)"
    )
    p.add_argument("--mode", choices=("descriptors", "labels"), default="descriptors")
    p.add_argument(
        "--labels", default=None, help="labels mode: label-set name (ekman, goemotions...) or a,b,c"
    )
    p.add_argument(
        "--prompt", dest="prompt_version", default=None, help="prompt template (default: per mode)"
    )
    p.add_argument("--rationale", action="store_true", help="also ask for a one-sentence rationale")
    p.add_argument("--text-field", default="text", help="text column / field of .jsonl, .csv, .tsv input")
    p.add_argument("--id-field", default="id", help="id column / field (default: a hash of the text)")
    g = p.add_argument_group("requests")
    g.add_argument("--concurrency", type=int, default=8)
    g.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    g.add_argument("--max-retries", type=int, default=6, help="retries per text after the first try")
    g.add_argument("--backoff-base", type=float, default=1.0, help="first retry delay in seconds (doubles)")
    g.add_argument("--backoff-max", type=float, default=60.0)
    g.add_argument("--max-answer-tokens", type=int, default=256)
    g.add_argument("--temperature", type=float, default=0.0)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument(
        "--response-format", choices=("auto", "json_schema", "json_object", "none"), default="auto"
    )
    g.add_argument("--retry-failed", action="store_true", help="ask again for texts stored as failed")
    g = p.add_argument_group("budget")
    g.add_argument(
        "--max-requests", type=int, default=None, help="stop before sending more requests than this"
    )
    g.add_argument("--max-tokens", type=int, default=None, help="stop before spending more tokens than this")
    g.add_argument(
        "--dry-run", action="store_true", help="print the request/token/cost estimate, send nothing"
    )
    g.add_argument(
        "--price-prompt", type=float, default=None, help="USD per 1M prompt tokens (cost estimate)"
    )
    g.add_argument("--price-completion", type=float, default=None, help="USD per 1M completion tokens")
    g = p.add_argument_group("batch API")
    g.add_argument(
        "--batch", action="store_true", help="submit through the Batch API instead of live requests"
    )
    g.add_argument("--batch-id", default=None, help="resume (merge) this batch; implies --batch")
    g.add_argument("--no-wait", action="store_true", help="submit or check batches and exit without waiting")
    g.add_argument("--poll-interval", type=float, default=30.0, help="seconds between batch status checks")
    g.add_argument("--batch-size", type=int, default=50_000, help="requests per batch (API limit 50,000)")
    p.add_argument("--json", action="store_true", help="print the summary (or estimate) as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log each retry")
    p.set_defaults(func=cmd_annotate)


def cmd_annotate(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from .annotate import AnnotateOptions, Redactor, annotate_async, estimate
    from .inputs import read_texts
    from .store import AnnotationStore

    _logging(args.verbose, Redactor(os.environ.get(args.api_key_env)))
    opts = AnnotateOptions(
        model=args.model,
        base_url=args.base_url,
        api_key_env=args.api_key_env,
        mode=args.mode,
        labels=args.labels,
        prompt_version=args.prompt_version,
        rationale=args.rationale,
        concurrency=args.concurrency,
        timeout=args.timeout,
        max_retries=args.max_retries,
        backoff_base=args.backoff_base,
        backoff_max=args.backoff_max,
        max_requests=args.max_requests,
        max_tokens=args.max_tokens,
        max_answer_tokens=args.max_answer_tokens,
        temperature=args.temperature,
        seed=args.seed,
        response_format=args.response_format,
        retry_failed=args.retry_failed,
        progress=False if args.no_progress else None,
        price_prompt=args.price_prompt,
        price_completion=args.price_completion,
    )
    items = read_texts(args.input, text_field=args.text_field, id_field=args.id_field)
    # A dry run reads what a store already holds but never creates one (an in-memory store stands in).
    where = ":memory:" if args.dry_run and not Path(args.store).is_file() else args.store
    with AnnotationStore(where) as store:
        if args.dry_run:
            _print_estimate(estimate(items, store, opts), args.json)
            return 0
        if args.batch or args.batch_id:
            from .annotate_batch import annotate_batch_async

            run = annotate_batch_async(
                items,
                store,
                opts,
                batch_id=args.batch_id,
                wait=not args.no_wait,
                poll_interval=args.poll_interval,
                batch_size=args.batch_size,
            )
        else:
            run = annotate_async(items, store, opts)
        summary = asyncio.run(run)
    print(json.dumps(summary.to_dict()) if args.json else summary.line())
    return 0


def _print_estimate(est: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(est))
        return
    print(
        f"dry run: {est['requests']} requests to {est['model']} ({est['prompt_version']}); "
        f"{est['texts']} texts, {est['skipped_done']} already done, {est['skipped_failed']} failed (skipped)"
    )
    print(
        f"tokens:  ~{est['prompt_tokens']} prompt + ~{est['completion_tokens']} completion "
        f"(at most {est['completion_tokens_max']} completion); tokenizer {est['tokenizer']}"
    )
    if "cost_usd" in est:
        print(f"cost:    ~${est['cost_usd']:.4f} (at most ${est['cost_usd_max']:.4f})")
    else:
        print("cost:    give --price-prompt and --price-completion (USD per 1M tokens) for a cost estimate")


def _logging(verbose: bool, redact) -> None:
    """Status to stderr; a filter strips the key from every record, whichever library logged it."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(levelname)s %(message)s")
    for name in ("openai", "httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _RedactFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_RedactFilter(redact))


class _RedactFilter(logging.Filter):
    def __init__(self, redact):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        return True


def cmd_import_goemotions(args: argparse.Namespace) -> int:
    from .inputs import read_goemotions_gpt4
    from .store import AnnotationStore

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with AnnotationStore(args.store) as store:
        for path in args.files:
            n = store.save_many(read_goemotions_gpt4(path))
            logger.info("imported %d rows from %s", n, path)
        stats = store.stats()
    print(f"{args.store}: {stats['rows']} rows, {stats['failed']} failed")
    return 0


def cmd_dump(args: argparse.Namespace) -> int:
    from .store import AnnotationStore

    with AnnotationStore(args.store, create=False) as store:
        records = store.records(
            status=args.status, teacher=args.teacher, prompt_version=args.prompt_version, mode=args.mode
        )
        try:
            for rec in records:
                sys.stdout.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
        except BrokenPipeError:  # `| head` closed the pipe
            sys.stderr.close()
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .store import AnnotationStore

    with AnnotationStore(args.store, create=False) as store:
        stats = store.stats()
    if args.json:
        print(json.dumps(stats))
        return 0
    print(f"store     {stats['path']}")
    print(f"rows      {stats['rows']} (done {stats['done']}, failed {stats['failed']})")
    print(
        f"tokens    {stats['prompt_tokens']} prompt + {stats['completion_tokens']} completion "
        f"over {stats['attempts']} tries"
    )
    for g in stats["by_teacher"]:
        kind = g["mode"] + (f"/{g['label_set']}" if g["label_set"] else "")
        print(
            f"  {g['teacher']}  {g['prompt_version']}  {kind}: {g['rows']} rows, {g['done']} done, "
            f"{g['failed']} failed, {g['prompt_tokens'] + g['completion_tokens']} tokens"
        )
    if stats["failure_reasons"]:
        print("failures  " + ", ".join(f"{k} {v}" for k, v in stats["failure_reasons"].items()))
    if stats["open_batches"]:
        print(f"batches   {stats['open_batches']} not merged yet (run annotate --batch again to resume)")
    return 0
