"""`emolite stream`: classify text lines as they arrive (a chat log, a speech-to-text transcript, a pipe).

Everything that can be wrong with the command line (a missing file, bad labels, a bad bundle) is reported
before the first line is read. With --follow, a line is classified once its newline has arrived, so a line
written in two parts is one text.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .errors import InvalidInputError


def follow(stream: TextIO, poll_s: float = 0.2, stop=lambda: False) -> Iterator[str]:
    """Complete lines of a file, then every line appended to it afterwards, until `stop()` or Ctrl-C."""
    partial = ""
    while True:
        chunk = stream.readline()
        if chunk:
            partial += chunk
            if partial.endswith("\n"):
                yield partial
                partial = ""
            continue
        if stop():
            if partial:
                yield partial
            return
        time.sleep(poll_s)


def lines_of(path: str | None, follow_file: bool) -> Iterator[str]:
    if path in (None, "-"):
        yield from sys.stdin
        return
    with open(path, encoding="utf-8", errors="replace", newline="") as stream:
        yield from (follow(stream) if follow_file else stream)


def format_line(pred, ms: float, top_k: int) -> str:
    shown = ", ".join(f"{label} {score:.2f}" for label, score in list(zip(pred.labels, pred.scores))[:top_k])
    text = pred.sequence if len(pred.sequence) <= 60 else pred.sequence[:57] + "..."
    return f"{time.strftime('%H:%M:%S')}  {'+'.join(pred.predicted):<24} [{shown}]  {ms:5.1f} ms  {text}"


def cmd_stream(args: argparse.Namespace, labels_arg) -> int:
    """Run the stream; `labels_arg` resolves --labels exactly as `emolite predict` does."""
    import emolite

    if args.file not in (None, "-") and not Path(args.file).is_file():
        raise InvalidInputError(f"no such file: {args.file}")
    if args.follow and args.file in (None, "-"):
        raise InvalidInputError("--follow needs a FILE to follow (stdin is read to its end anyway)")
    clf = emolite.load(args.bundle, backend=args.backend, threads=args.threads)
    labels, multi = labels_arg(args.labels, clf, args.multi_label)
    clf.predict("ok", labels=labels, multi_label=multi, threshold=args.threshold)  # every option checked now
    print(f"emolite {emolite.__version__}, backend {clf.backend_name}; reading lines...", file=sys.stderr)
    try:
        for n, line in enumerate(lines_of(args.file, args.follow), 1):
            text = line.rstrip("\r\n")
            if not text.strip():
                if args.json:
                    print(json.dumps({"line": n, "error": "empty line"}), flush=True)
                continue
            start = time.perf_counter()
            pred = clf.predict(text, labels=labels, top_k=args.top_k, multi_label=multi, threshold=args.threshold)
            ms = 1e3 * (time.perf_counter() - start)
            if args.json:
                record = {"line": n, **pred.to_dict(), "truncated": pred.truncated, "ms": round(ms, 2)}
                print(json.dumps(record, ensure_ascii=False), flush=True)
            else:
                print(format_line(pred, ms, args.top_k or 3), flush=True)
    except KeyboardInterrupt:
        pass
    return 0
