"""Write a model bundle (format v1) from a student checkpoint: model files, tokenizer, label sets, manifest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import onnx_export
from .label_sets import DEFAULT_LABEL_SETS, LABEL_SETS, TEMPLATES

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SEQUENCE_BUCKETS = (16, 32, 64, 128)
GOLDEN_MIN_COSINE = 0.999
# Probe texts whose embeddings every runtime must reproduce at load time: short, long, emoji, CJK, RTL, accents.
GOLDEN_TEXTS = (
    "I can't believe I won the lottery!!!",
    "ok",
    "This is the worst customer service I have ever experienced, absolutely furious right now.",
    "Je suis très fatigué mais content 😊",
    "我今天很难过",
    "أنا سعيد جدا",
    "lol 😂😂😂 that's hilarious #blessed @friend https://example.com",
    "My grandmother passed away last night and I keep thinking about the summers we spent together "
    "at her house by the lake, the smell of her kitchen, the way she laughed.",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_tokenizer(checkpoint_dir: Path, max_length: int):
    """The checkpoint's tokenizer.json with padding off and truncation at the model maximum."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(checkpoint_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def tokenizer_settings(tokenizer_json: dict, vocab: dict[str, int], max_length: int) -> dict[str, Any]:
    """Everything a non-Python client needs to reproduce the WordPiece tokenisation."""
    norm = tokenizer_json.get("normalizer") or {}
    model = tokenizer_json["model"]
    lowercase = bool(norm.get("lowercase", True))
    strip_accents = norm.get("strip_accents")
    return {
        "file": "tokenizer.json",
        "vocab": "vocab.txt",
        "type": model["type"].lower(),
        "lowercase": lowercase,
        "strip_accents": lowercase if strip_accents is None else bool(strip_accents),  # BERT: follows lowercase
        "handle_chinese_chars": bool(norm.get("handle_chinese_chars", True)),
        "clean_text": bool(norm.get("clean_text", True)),
        "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
        "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
        "max_seq_length": max_length,
        "unk_token": model.get("unk_token", "[UNK]"),
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "unk_id": vocab[model.get("unk_token", "[UNK]")],
        "cls_id": vocab["[CLS]"],
        "sep_id": vocab["[SEP]"],
        "pad_id": vocab["[PAD]"],
    }


def pad_batch(tokenizer, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    encodings = tokenizer.encode_batch(list(texts))
    length = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), length), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    return ids, mask


def embed_torch(encoder, tokenizer, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            ids, mask = pad_batch(tokenizer, texts[start : start + batch_size])
            out.append(encoder(torch.from_numpy(ids), torch.from_numpy(mask)).numpy())
    return np.concatenate(out).astype(np.float32)


def embed_onnx(session, tokenizer, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    out = []
    for start in range(0, len(texts), batch_size):
        ids, mask = pad_batch(tokenizer, texts[start : start + batch_size])
        out.append(session.run([onnx_export.OUTPUT], {"input_ids": ids, "attention_mask": mask})[0])
    return np.concatenate(out).astype(np.float32)


def label_embeddings(embed, prompts: dict[str, list[str]]) -> np.ndarray:
    """Per label: mean of its prompt embeddings, L2-normalised (open_clip's zero-shot classifier)."""
    rows = []
    for texts in prompts.values():
        mean = embed(texts).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return np.stack(rows).astype("<f4")


def export_bundle(
    checkpoint: str | Path,
    out: str | Path,
    formats: Sequence[str] = ("onnx",),
    label_sets: Sequence[str] = DEFAULT_LABEL_SETS,
    keep_fp32: Sequence[str] = (),
    name: str | None = None,
) -> Path:
    """Export `checkpoint` ('base' for all-MiniLM-L6-v2) into the bundle folder `out`; returns `out`."""
    from emolite.distill.model import StudentEncoder

    unknown = [f for f in formats if f != "onnx"]
    if unknown:
        raise ValueError(f"unsupported export format(s) {unknown}; supported: onnx")
    encoder = StudentEncoder.from_pretrained(checkpoint)
    source: Path = encoder.source
    name = name or meta_name(encoder.meta, checkpoint)
    meta = encoder.meta
    max_length = int(meta["max_seq_length"])
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "labels").mkdir(parents=True)

    tokenizer = bundle_tokenizer(source, max_length)
    tokenizer.save(str(out / "tokenizer.json"))
    shutil.copyfile(source / "vocab.txt", out / "vocab.txt")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = encoder.transformer.config
        onnx_export.export_fp32(encoder, tmp / "fp32.onnx")
        onnx_export.fuse(tmp / "fp32.onnx", tmp / "fused.onnx", cfg.num_attention_heads, cfg.hidden_size)
        onnx_export.quantize_int8(tmp / "fused.onnx", out / "model.onnx", keep_fp32)
    session = onnx_export.onnx_session(out / "model.onnx")

    templates = tuple(meta.get("label_templates") or TEMPLATES)
    sets_meta = {}
    for set_name in label_sets:
        spec = LABEL_SETS[set_name]
        prompts = spec.prompts(templates)
        emb = label_embeddings(lambda t: embed_torch(encoder, tokenizer, t), prompts)
        rel = f"labels/{set_name}.f32"
        emb.tofile(out / rel)
        chosen = meta.get("thresholds", {}).get(set_name, {})
        sets_meta[set_name] = {
            "file": rel,
            "dtype": "float32",
            "shape": list(emb.shape),
            "labels": list(spec.labels),
            "multi_label": spec.multi_label,
            "thresholds": [float(chosen.get(label, 0.5)) for label in spec.labels],
            "prompts": prompts,
            "description": spec.description,
        }

    # One text per run: dynamic int8 quantises activations per tensor, so batch-mates shift a row's output.
    golden = embed_onnx(session, tokenizer, GOLDEN_TEXTS, batch_size=1)
    manifest = {
        "format": "emolite-bundle",
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "encoder": {
            "name": name,
            "base_model": meta.get("base_model"),
            "parameters": int(sum(p.numel() for p in encoder.parameters())),
            "embedding_dim": encoder.embedding_dim,
            "pooling": meta["pooling"],
            "normalized": True,
        },
        "tokenizer": tokenizer_settings(
            json.loads((out / "tokenizer.json").read_text()), tokenizer.get_vocab(), max_length
        ),
        "sequence_buckets": list(SEQUENCE_BUCKETS),
        "formats": {
            "onnx": {
                "file": "model.onnx",
                "precision": "int8-dynamic-per-channel",
                "opset": onnx_export.OPSET,
                "inputs": list(onnx_export.INPUTS),
                "output": onnx_export.OUTPUT,
                "kept_fp32": list(keep_fp32),
                "batch_invariant": False,
            }
        },
        "preferred_backend": "onnx",
        "scoring": {
            "similarity": "cosine",
            **encoder.scoring(),
            "multi_label": "sigmoid(logit_scale * cos + logit_bias) >= threshold; at least the top label",
            "single_label": "softmax(logit_scale * cos); argmax",
            "default_threshold": 0.5,
        },
        "label_templates": list(templates),
        "default_label_set": "goemotions" if "goemotions" in sets_meta else next(iter(sets_meta)),
        "label_sets": sets_meta,
        "golden": {
            "texts": list(GOLDEN_TEXTS),
            "min_cosine": GOLDEN_MIN_COSINE,
            "embeddings": {"onnx": np.round(golden, 7).tolist()},
        },
        "training": meta.get("training"),
        "evaluation": meta.get("evaluation"),
    }
    write_manifest(out, manifest)
    log.info("wrote bundle %s", out)
    return out


def meta_name(meta: dict[str, Any], checkpoint: str | Path) -> str:
    if meta.get("name"):
        return meta["name"]
    return "emolite-base-minilm-l6" if meta.get("training") is None else f"emolite-{Path(checkpoint).name}"


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Record size and sha256 of every file in the bundle, then write manifest.json."""
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest["files"] = {
        p.relative_to(out).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_file(p)} for p in files
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
