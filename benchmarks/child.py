"""Cold start and peak memory, each configuration in a fresh Python process.

A fresh process per configuration means one configuration's allocations and imports never pollute the
next. The child program is passed with `python -c` (not `-m emolite...`, which would import emolite before
the clock starts). SDK configurations run exactly what a user runs: `import emolite`, `emolite.load`,
`predict`. Peers build their subject through `emolite.benchmarks.subjects` (their import cost is theirs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SDK_LOAD = """
import emolite
t_import = time.perf_counter()
clf = emolite.load(cfg["bundle"], backend=cfg["subject"], threads=cfg["threads"])
"""

_PEER_LOAD = """
from emolite.benchmarks.subjects import make_subject
t_import = time.perf_counter()
clf = make_subject(cfg["subject"], cfg["bundle"], cfg["threads"], cfg["checkpoint"]).classifier
"""

_PROGRAM = """
import time
t_start = time.perf_counter()
wall_start = time.time()
import json, sys
{helpers}
cfg = json.loads(sys.argv[1])
{load}
t_load = time.perf_counter()
clf.predict(cfg["first_text"])
t_first = time.perf_counter()
rss_after_first = peak_rss_kb()
texts = json.load(open(cfg["texts_file"], encoding="utf-8"))
for text in texts:
    clf.predict(text)
rss_after_singles = peak_rss_kb()
clf.predict(texts[: cfg["batch"]])
print(json.dumps({{
    "wall_start": wall_start,
    "import_ms": 1e3 * (t_import - t_start),
    "load_ms": 1e3 * (t_load - t_import),
    "first_prediction_ms": 1e3 * (t_first - t_load),
    "total_ms": 1e3 * (t_first - t_start),
    "peak_rss_after_first_mb": rss_after_first / 1024,
    "peak_rss_predictions_mb": rss_after_singles / 1024,
    "peak_rss_mb": peak_rss_kb() / 1024,
    "texts": len(texts) + 1,
    "modules": sorted(m for m in ("torch", "transformers", "onnxruntime", "ai_edge_litert") if m in sys.modules),
}}))
"""

# VmHWM, not getrusage's ru_maxrss: Linux folds the parent's high-water mark into a child's ru_maxrss at
# exec (subprocess uses vfork), so a big parent (torch loaded) would inflate every child's figure.
_PEAK_RSS = """
def peak_rss_kb():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB elsewhere
"""


def program(subject: str) -> str:
    """The child's source for a subject: the SDK's public API for SDK backends, the subject factory for peers."""
    from .subjects import SDK_BACKENDS

    load = _SDK_LOAD if subject in SDK_BACKENDS else _PEER_LOAD
    return _PROGRAM.format(load=load, helpers=_PEAK_RSS)


def run_child(
    subject: str,
    bundle: str | None,
    threads: int,
    texts: list[str],
    checkpoint: str = "base",
    batch: int = 32,
    timeout: float = 600.0,
) -> dict:
    """One fresh process: cold start phases, interpreter start-up and peak RSS after a small workload.

    The workload is `texts` predicted one at a time (peak_rss_predictions_mb: import, load and those
    predictions), then one list of the first `batch` of them (peak_rss_mb: all of it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts[1:]), encoding="utf-8")
        cfg = {
            "subject": subject,
            "bundle": bundle,
            "threads": threads,
            "checkpoint": checkpoint,
            "first_text": texts[0],
            "texts_file": str(texts_file),
            "batch": batch,
        }
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
        spawned = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", program(subject), json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        finished = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"child for {subject} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["interpreter_start_ms"] = 1e3 * (result.pop("wall_start") - spawned)
    result["process_wall_ms"] = 1e3 * (finished - spawned)
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
