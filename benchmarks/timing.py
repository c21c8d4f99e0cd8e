"""Timing loops: warm-up first, then many timed calls, summarised as percentiles (milliseconds)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence

import numpy as np

PERCENTILES = (50, 90, 99)


def summarize(seconds: Sequence[float]) -> dict:
    """p50/p90/p99/mean/min/max in ms and the number of calls; an empty input gives n=0 and nulls."""
    if not len(seconds):
        return {"n": 0, "p50": None, "p90": None, "p99": None, "mean": None, "min": None, "max": None}
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    p50, p90, p99 = (float(v) for v in np.percentile(ms, PERCENTILES))
    return {
        "n": int(ms.size),
        "p50": round(p50, 4),
        "p90": round(p90, 4),
        "p99": round(p99, 4),
        "mean": round(float(ms.mean()), 4),
        "min": round(float(ms.min()), 4),
        "max": round(float(ms.max()), 4),
    }


def time_repeated(fn: Callable[[], object], warmup: int, runs: int, budget_s: float = float("inf")) -> dict:
    """Call fn() `warmup` times untimed, then time up to `runs` calls (stopping early past `budget_s`)."""
    for _ in range(warmup):
        fn()
    return summarize(_timed_calls((fn for _ in range(runs)), budget_s))


def time_each(
    fn: Callable[[object], object], items: Sequence, warmup: int, budget_s: float = float("inf")
) -> dict:
    """fn(item) once per item, timed separately, after `warmup` untimed calls on the first items."""
    for item in items[:warmup]:
        fn(item)
    return summarize(_timed_calls(((lambda it=it: fn(it)) for it in items), budget_s))


def time_each_interleaved(
    fns: dict[str, Callable[[object], object]], items: Sequence, warmup: int, rounds: int = 10
) -> dict[str, dict]:
    """Like `time_each` for several functions on the same items, interleaved: the items are cut into
    `rounds` consecutive chunks and every function times each chunk in turn (the order rotating by round),
    so a change of machine load during the run falls on all of them alike. Each function still gets one
    timed call per item."""
    keys = list(fns)
    for key in keys:
        for item in items[:warmup]:
            fns[key](item)
    size = max(1, -(-len(items) // max(rounds, 1)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    times: dict[str, list[float]] = {key: [] for key in keys}
    for r, chunk in enumerate(chunks):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)] if keys else []:
            fn = fns[key]
            times[key] += _timed_calls(((lambda it=it, fn=fn: fn(it)) for it in chunk), float("inf"))
    return {key: summarize(times[key]) for key in keys}


def _timed_calls(calls, budget_s: float) -> list[float]:
    """Time each call with perf_counter; the garbage collector is paused so it never lands inside a call."""
    times: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for call in calls:
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            times.append(t1 - t0)
            if t1 - start > budget_s:
                break
    finally:
        if enabled:
            gc.enable()
    return times


def throughput(
    fn: Callable[[list], object],
    items: Sequence,
    batch: int,
    warmup_batches: int = 1,
    budget_s: float = float("inf"),
) -> dict:
    """Texts per second of fn(batch_of_items) over consecutive batches of `items`."""
    batches = [list(items[i : i + batch]) for i in range(0, len(items), batch)]
    for b in batches[:warmup_batches]:
        fn(b)
    done, elapsed = 0, 0.0
    for b in batches:
        t0 = time.perf_counter()
        fn(b)
        elapsed += time.perf_counter() - t0
        done += len(b)
        if elapsed > budget_s:
            break
    return {
        "batch": batch,
        "texts": done,
        "seconds": round(elapsed, 4),
        "texts_per_s": round(done / elapsed, 2) if elapsed > 0 else None,
    }
