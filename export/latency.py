"""Median latency of each backend of a bundle at every sequence bucket, batch 1.

    python -m emolite.export.latency BUNDLE [--threads 1 2] [--runs 50]

Times `backend.run` on one row of exactly L tokens (the model alone) and `Classifier.embed` on one text
of that length (tokenisation included). Report the machine load beside the figures: they are wall times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 2)


def text_of_length(clf, length: int) -> str:
    """A text the bundle tokenizer turns into exactly `length` ids ([CLS] and [SEP] included)."""
    words = ("happy sad angry calm " * length).split()[: length - 2]
    text = " ".join(words)
    assert len(clf.encoder.encode([text])[0][0]) == length
    return text


def measure(bundle: str, backend: str, threads: int, runs: int) -> dict[str, dict[str, float]]:
    import emolite

    clf = emolite.load(bundle, backend=backend, threads=threads, batch_size=1)
    out = {}
    for length in clf.bundle.manifest["sequence_buckets"]:
        text = text_of_length(clf, length)
        ids = np.asarray([clf.encoder.encode([text])[0][0]], dtype=np.int64)
        mask = np.ones_like(ids)
        out[f"L{length}"] = {
            "model_ms": median_ms(lambda ids=ids, mask=mask: clf.backend.run(ids, mask), runs),
            "embed_ms": median_ms(lambda text=text: clf.embed(text), runs),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle")
    p.add_argument("--backends", nargs="+", default=["onnx", "tflite"])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--runs", type=int, default=50)
    args = p.parse_args(argv)
    results = {
        f"{b}/threads={t}": measure(args.bundle, b, t, args.runs) for b in args.backends for t in args.threads
    }
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
