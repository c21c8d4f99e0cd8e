"""Guest side of the ARM check: run the installed SDK on the probe texts with one backend, one thread.

Uses only the SDK and the standard library, so it runs in the aarch64 environment as on the host.
Regions of interest are bracketed by os.getppid() calls, which the insn_marks QEMU plugin turns into
instruction-count marks (on the host, without the plugin, they are harmless). The mark order is fixed:
  0 start, 1 after import+load, then per region (e2e, model L=16, model L=64): before, after.

    python probe.py CONFIG.json OUT.json
CONFIG: {"bundle": path or null, "backend": "onnx", "texts": [...], "repeats": 2, "region_text": "...",
         "label_prompts": {label: [prompt, ...]} (optional)}
Per text it also has every label's probability in the bundle's default set, and that set's thresholds (to show
how far from its threshold a decision that differs between CPUs was), and the set's logit scale (to read
logit gaps as cosine gaps). With "label_prompts" the output also has "label_rows": {label: row}, each row the prompts embedded one per call
and averaged as the export built the bundle's fp32 label rows (emolite.scoring.label_row).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time


def mark() -> None:
    os.getppid()


def region(fn, repeats: int) -> dict:
    """Run fn `repeats` times between two marks; the wall time is recorded only for reference."""
    mark()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    seconds = time.perf_counter() - t0
    mark()
    return {"repeats": repeats, "wall_s": round(seconds, 4)}


def main(config_path: str, out_path: str) -> int:
    with open(config_path, encoding="utf-8") as f:
        cfg = json.load(f)
    mark()
    t0 = time.perf_counter()
    import numpy as np

    import emolite
    from emolite.scoring import label_row

    clf = emolite.load(cfg["bundle"], backend=cfg["backend"], threads=1)
    load_s = time.perf_counter() - t0
    mark()
    repeats = int(cfg.get("repeats", 2))
    regions = {"e2e": region(lambda: clf.predict(cfg["region_text"]), repeats)}
    for length in (16, 64):
        ids = np.asarray([[101] + [1045 + (i % 500) for i in range(length - 2)] + [102]], dtype=np.int64)
        mask = np.ones_like(ids)
        regions[f"model_L{length}"] = region(lambda ids=ids, mask=mask: clf.backend.run(ids, mask), repeats)
    texts = cfg["texts"]
    vectors = [clf.embed(t).tolist() for t in texts]
    preds = [clf.predict(t) for t in texts]
    label_set = clf.bundle.label_set(clf.bundle.default_label_set)
    label_rows = {
        label: label_row(np.stack([clf.embed(p) for p in prompts])).tolist()
        for label, prompts in (cfg.get("label_prompts") or {}).items()
    }
    result = {
        "backend": cfg["backend"],
        "machine": platform.machine(),
        "emolite": emolite.__version__,
        "bundle": str(clf.bundle.root),
        "load_s": round(load_s, 4),
        "regions": regions,
        "texts": texts,
        "embeddings": vectors,
        "top_labels": [p.labels[0] for p in preds],
        "predicted": [p.predicted for p in preds],
        "probabilities": [dict(zip(p.labels, p.scores)) for p in preds],
        "thresholds": dict(zip(label_set.labels, label_set.thresholds.tolist())),
        # the scale turns a logit gap into a cosine gap: how far a score moved, or sat from its threshold
        "logit_scale": float(clf.logit_scale if label_set.logit_scale is None else label_set.logit_scale),
        "multi_label": label_set.multi_label,
    }
    if label_rows:
        result["label_rows"] = label_rows
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
