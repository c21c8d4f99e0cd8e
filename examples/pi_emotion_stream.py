#!/usr/bin/env python3
"""Emotion stream for a Raspberry Pi (or any computer): classify text lines as they arrive.

Reads lines from stdin, or from a file (with --follow it keeps reading what is appended, like `tail -f`,
e.g. a chat log or a speech-to-text transcript), and prints one result per line. Uses only the emolite
SDK (`pip install emolite`, optionally `ai-edge-litert` for the TFLite backend).

    echo "I can't believe I won!" | python pi_emotion_stream.py
    python pi_emotion_stream.py chat.log --follow --labels ekman --threads 2
    python pi_emotion_stream.py transcript.txt --json > emotions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from typing import TextIO

import emolite


def follow(stream: TextIO, poll_s: float = 0.25) -> Iterator[str]:
    """Lines of a file, then every line appended to it afterwards (until interrupted)."""
    while True:
        line = stream.readline()
        if line:
            yield line
        else:
            time.sleep(poll_s)


def lines_of(args: argparse.Namespace) -> Iterator[str]:
    if args.file in (None, "-"):
        yield from sys.stdin
        return
    with open(args.file, encoding="utf-8", errors="replace") as stream:
        yield from (follow(stream) if args.follow else stream)


def format_result(pred: emolite.Prediction, ms: float, top_k: int) -> str:
    shown = ", ".join(f"{label} {score:.2f}" for label, score in list(zip(pred.labels, pred.scores))[:top_k])
    text = pred.sequence if len(pred.sequence) <= 60 else pred.sequence[:57] + "..."
    return f"{time.strftime('%H:%M:%S')}  {'+'.join(pred.predicted):<24} [{shown}]  {ms:5.1f} ms  {text}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", help="text file to read ('-' or nothing: stdin)")
    parser.add_argument("--follow", action="store_true", help="keep reading lines appended to the file")
    parser.add_argument("--labels", default=None, help="label set (emolite labels) or comma-separated words")
    parser.add_argument("--bundle", default=None, help="model bundle (default: the one shipped with emolite)")
    parser.add_argument("--backend", default="auto", help="auto, onnx or tflite")
    parser.add_argument("--threads", type=int, default=None, help="runtime threads (a Pi 4/5 has 4 cores)")
    parser.add_argument("--top-k", type=int, default=3, help="scores shown per line")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args(argv)
    labels = args.labels.split(",") if args.labels and "," in args.labels else args.labels

    clf = emolite.load(args.bundle, backend=args.backend, threads=args.threads)
    print(f"emolite {emolite.__version__}, backend {clf.backend_name}; reading lines...", file=sys.stderr)
    try:
        for line in lines_of(args):
            text = line.strip()
            if not text:
                continue
            start = time.perf_counter()
            pred = clf.predict(text, labels=labels)
            ms = 1e3 * (time.perf_counter() - start)
            if args.json:
                print(json.dumps({**pred.to_dict(), "ms": round(ms, 2)}, ensure_ascii=False), flush=True)
            else:
                print(format_result(pred, ms, args.top_k), flush=True)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
