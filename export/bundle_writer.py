"""Write a model bundle from a student checkpoint: model files, tokenizer, label sets, manifest, parity report.

The bundle contract (format name and version, the manifest writer, its JSON Schema) is emolite.bundle's;
the label catalog, the data sets and the label-row rule are the SDK's too, so a bundle is built with the
very code that reads and scores it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emolite import datasets, emoji, scoring
from emolite.bundle import FORMAT_NAME, FORMAT_VERSION, validate_manifest, write_manifest
from emolite.catalog import DEFAULT_LABEL_SETS, LABEL_SETS, TEMPLATES
from emolite.errors import EmoliteError, InvalidInputError

from . import model_card, onnx_export, parity, tflite_export

log = logging.getLogger(__name__)

# TFLite signature lengths: GoEmotions and tweet texts have a median of 19-28 word pieces and a 90th percentile
# of 31-41, so steps of 4 up to 24 and of 8-16 above keep the padding of a typical text under 20%. Each
# signature adds ~0.1 MB to the file; XNNPACK's weight cache shares the packed weights between them.
SEQUENCE_BUCKETS = (8, 12, 16, 20, 24, 32, 48, 64, 96, 128)
EMOJI_FILE = "emoji.json"
FORMATS = ("onnx", "tflite")
GOLDEN_MIN_COSINE = 0.999
# Golden vectors are recorded one text per run, as the classifier verifies them: onnxruntime's int8 quantises
# activations per tensor, so a text's embedding would otherwise depend on its batch-mates (cosine ~0.99).
GOLDEN_BATCH = 1
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


def bundle_tokenizer(checkpoint_dir: Path, max_length: int):
    """The checkpoint's tokenizer.json with padding off and truncation at the model maximum."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(checkpoint_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def write_vocab(checkpoint_dir: Path, target: Path) -> None:
    """vocab.txt for non-Python clients: the checkpoint's, else one written from tokenizer.json's WordPiece vocab."""
    if (checkpoint_dir / "vocab.txt").is_file():
        shutil.copyfile(checkpoint_dir / "vocab.txt", target)
        return
    vocab = json.loads((checkpoint_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise ValueError(f"{checkpoint_dir}/tokenizer.json: vocabulary ids are not 0..n-1")
    target.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")


def special_tokens(tokenizer_json: dict) -> dict[str, str]:
    """The tokens the tokenizer puts around a text and pads with: [CLS]/[SEP]/[PAD] for BERT's
    TemplateProcessing, <s>/</s>/<pad> for MPNet's RobertaProcessing."""
    post = tokenizer_json.get("post_processor") or {}
    if post.get("type") in ("BertProcessing", "RobertaProcessing"):
        cls, sep = post["cls"][0], post["sep"][0]
    else:
        single = [step["SpecialToken"]["id"] for step in post.get("single", []) if "SpecialToken" in step]
        cls, sep = (single[0], single[-1]) if len(single) == 2 else ("[CLS]", "[SEP]")
    pad = (tokenizer_json.get("padding") or {}).get("pad_token", "[PAD]")
    return {"cls_token": cls, "sep_token": sep, "pad_token": pad}


def tokenizer_settings(tokenizer_json: dict, vocab: dict[str, int], max_length: int) -> dict[str, Any]:
    """Everything a non-Python client needs to reproduce the WordPiece tokenisation."""
    norm = tokenizer_json.get("normalizer") or {}
    model = tokenizer_json["model"]
    lowercase = bool(norm.get("lowercase", True))
    strip_accents = norm.get("strip_accents")
    tokens = {"unk_token": model.get("unk_token", "[UNK]"), **special_tokens(tokenizer_json)}
    return {
        "file": "tokenizer.json",
        "vocab": "vocab.txt",
        "type": model["type"].lower(),
        "lowercase": lowercase,
        "strip_accents": lowercase
        if strip_accents is None
        else bool(strip_accents),  # BERT: follows lowercase
        "handle_chinese_chars": bool(norm.get("handle_chinese_chars", True)),
        "clean_text": bool(norm.get("clean_text", True)),
        "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
        "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
        "max_seq_length": max_length,
        **tokens,
        **{name.replace("_token", "_id"): vocab[token] for name, token in tokens.items()},
    }


def embed_torch(encoder, text_encoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """fp32 reference embeddings, in length-sorted chunks (the SDK's tokenizer wrapper pads them)."""
    import torch

    out = np.empty((len(texts), encoder.embedding_dim), dtype=np.float32)
    ids, _ = text_encoder.encode(list(texts))
    with torch.no_grad():
        for chunk in text_encoder.chunks(ids, batch_size):
            ids_t, mask_t = torch.from_numpy(chunk.input_ids), torch.from_numpy(chunk.attention_mask)
            out[chunk.index] = encoder(ids_t, mask_t).numpy()
    return out


def embed_backend(backend, text_encoder, texts: Sequence[str], batch_size: int = GOLDEN_BATCH) -> np.ndarray:
    """Embeddings through an SDK backend exactly as `Classifier.embed` computes them."""
    out = np.empty((len(texts), 0), dtype=np.float32)
    ids, _ = text_encoder.encode(list(texts))
    for chunk in text_encoder.chunks(ids, batch_size):
        vectors = backend.run(chunk.input_ids, chunk.attention_mask)
        if out.shape[1] == 0:
            out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
        out[chunk.index] = vectors
    return out


class ParityGateError(EmoliteError):
    """An exported artifact failed a parity gate; the bundle is written with its parity.json for inspection."""


def export_bundle(
    checkpoint: str | Path,
    out: str | Path,
    formats: Sequence[str] = FORMATS,
    label_sets: Sequence[str] = DEFAULT_LABEL_SETS,
    keep_fp32: Sequence[str] = (),
    name: str | None = None,
    gate_texts: int | None = None,
    buckets: Sequence[int] = SEQUENCE_BUCKETS,
) -> Path:
    """Export `checkpoint` ('base' for all-MiniLM-L6-v2) into the bundle folder `out` and gate it.

    `gate_texts` limits the GoEmotions dev texts of the zero-shot gate (None: all teacher-labelled rows);
    `buckets` are the TFLite signature lengths (the last must be the model's max_seq_length).
    Raises ParityGateError (after writing the bundle and parity.json) when a gate fails.
    """
    from emolite.distill.model import StudentEncoder
    from emolite.text import TextEncoder

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise InvalidInputError(
            f"unsupported export format(s) {unknown or formats}; supported: {', '.join(FORMATS)}"
        )
    unknown = [s for s in label_sets if s not in LABEL_SETS]
    if unknown or not label_sets:
        raise InvalidInputError(
            f"unknown label set(s) {unknown or label_sets}; known: {', '.join(LABEL_SETS)}"
        )
    encoder = StudentEncoder.from_pretrained(checkpoint)
    meta = encoder.meta
    max_length = int(meta["max_seq_length"])
    buckets = tuple(sorted(int(n) for n in buckets))
    if not buckets or buckets[0] < 1 or buckets[-1] != max_length:
        raise InvalidInputError(f"sequence buckets {buckets} must be positive and end at max_seq_length {max_length}")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "labels").mkdir(parents=True)
    bundle_tokenizer(encoder.source, max_length).save(str(out / "tokenizer.json"))
    write_vocab(encoder.source, out / "vocab.txt")
    shutil.copyfile(emoji.TABLE_FILE, out / EMOJI_FILE)  # the text pipeline's first step, as in training
    text_encoder = TextEncoder(out / "tokenizer.json", max_length, emoji=emoji.EmojiNames.from_file(out / EMOJI_FILE))

    clock = time.perf_counter()
    format_meta = write_models(encoder, out, formats, text_encoder, keep_fp32, buckets)
    log.info("models written in %.0f s", time.perf_counter() - clock)
    templates = tuple(meta.get("label_templates") or TEMPLATES)
    fp32_embed = lambda texts: embed_torch(encoder, text_encoder, texts)  # noqa: E731
    sets_meta, fp32_labels = write_label_sets(out, label_sets, templates, meta, fp32_embed)
    manifest = build_manifest(encoder, checkpoint, name, out, format_meta, sets_meta, templates, max_length, buckets)
    write_manifest(out, manifest)
    manifest["golden"]["embeddings"] = golden_embeddings(out, formats, text_encoder)
    write_manifest(out, manifest)

    rule = gate_scoring(meta, manifest["scoring"], fp32_labels[parity.GATE_SET])
    prompts = LABEL_SETS[parity.GATE_SET].prompts(templates, members=bool(meta.get("label_members")))
    report = parity.gate_bundle(out, checkpoint, fp32_embed, rule, prompts, gate_texts)
    finish_bundle(out, manifest, report)
    if not report["pass"]:
        raise ParityGateError(f"bundle {out} failed a parity gate; see {out / 'parity.json'}")
    return out


def write_models(
    encoder, out: Path, formats: Sequence[str], text_encoder, keep_fp32: Sequence[str], buckets: Sequence[int]
) -> dict:
    """Write model.onnx / model.tflite; returns their manifest entries."""
    entries = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "onnx" in formats:
            calibration = onnx_export.calibration_feeds(text_encoder, datasets.calibration_texts())
            onnx_export.build_int8(encoder, out / "model.onnx", work, calibration, keep_fp32)
            entries["onnx"] = {
                "file": "model.onnx",
                "precision": "int8-dynamic-per-channel-7bit+smoothquant",
                "opset": onnx_export.OPSET,
                "inputs": list(onnx_export.INPUTS),
                "output": onnx_export.OUTPUT,
                "kept_fp32": list(keep_fp32),
                "batch_invariant": False,  # per-tensor dynamic activation quantisation
            }
        if "tflite" in formats:
            tflite_export.build_int8(encoder, out / "model.tflite", work, buckets)
            entries["tflite"] = {
                "file": "model.tflite",
                "precision": f"int8-{tflite_export.RECIPE}",
                "signatures": {tflite_export.signature_name(n): n for n in buckets},
                "batch": 1,
                "inputs": list(tflite_export.INPUTS),
                "input_dtype": tflite_export.INPUT_DTYPE,
                "output": tflite_export.OUTPUT,
                "batch_invariant": True,  # batch-1 signatures; activations quantised per row
            }
    return entries


def label_thresholds(meta: dict[str, Any], set_name: str) -> list[float]:
    """Per-label thresholds of a set as the checkpoint calibrated them (0.5 where it has none)."""
    chosen = meta.get("thresholds", {}).get(set_name, {})
    return [float(chosen.get(label, 0.5)) for label in LABEL_SETS[set_name].labels]


def gate_scoring(
    meta: dict[str, Any], manifest_scoring: dict[str, Any], label_rows: np.ndarray
) -> parity.Scoring:
    """The gate set's decision rule exactly as the bundle ships it."""
    spec = LABEL_SETS[parity.GATE_SET]
    thresholds = np.asarray(label_thresholds(meta, parity.GATE_SET), dtype=np.float32)
    own = (meta.get("calibration") or {}).get(parity.GATE_SET) or {}
    scale = float(own.get("logit_scale") or manifest_scoring["logit_scale"])
    bias = own.get("logit_bias")
    bias = float(manifest_scoring["logit_bias"]) if bias is None else np.asarray(bias, np.float32)
    return parity.Scoring(list(spec.labels), label_rows, thresholds, spec.multi_label, scale, bias)


def write_label_sets(
    out: Path,
    label_sets: Sequence[str],
    templates: Sequence[str],
    meta: dict[str, Any],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> tuple[dict, dict]:
    """labels/<set>.f32 from the fp32 model (measured better than int8-derived rows, see docs/export.md).

    Returns the manifest entries and the rows per set, the gate set's included even when not shipped.
    """
    sets_meta, vectors = {}, {}
    members = bool(meta.get("label_members"))
    reports = ((meta.get("training") or {}).get("calibration") or {}).get("report") or {}
    for set_name in label_sets:
        spec = LABEL_SETS[set_name]
        prompts = spec.prompts(templates, members=members)
        emb = scoring.label_rows(embed, prompts)
        rel = f"labels/{set_name}.f32"
        emb.tofile(out / rel)
        vectors[set_name] = emb
        sets_meta[set_name] = {
            "file": rel,
            "dtype": "float32",
            "shape": list(emb.shape),
            "labels": list(spec.labels),
            "multi_label": spec.multi_label,
            "thresholds": label_thresholds(meta, set_name),
            "prompts": prompts,
            "description": spec.description,
            "source": "fp32",
            **set_calibration(meta, set_name, reports),
        }
    if parity.GATE_SET not in vectors:
        spec = LABEL_SETS[parity.GATE_SET]
        vectors[parity.GATE_SET] = scoring.label_rows(embed, spec.prompts(templates, members=members))
    return sets_meta, vectors


def set_calibration(meta: dict[str, Any], set_name: str, reports: dict[str, Any]) -> dict[str, Any]:
    """A set's own scale and biases and its calibration report, when the checkpoint fitted them."""
    own = (meta.get("calibration") or {}).get(set_name) or {}
    out: dict[str, Any] = {}
    if own.get("logit_scale") is not None:
        out["logit_scale"] = float(own["logit_scale"])
    if own.get("logit_bias") is not None:
        out["logit_bias"] = [float(b) for b in own["logit_bias"]]
    if set_name in reports:
        out["calibration"] = {"source": "held-out teacher labels", **reports[set_name]}
    return out


def golden_embeddings(out: Path, formats: Sequence[str], text_encoder) -> dict[str, list]:
    """Golden vectors per format, computed through the SDK backend that will have to reproduce them."""
    from emolite.backends import create_backend
    from emolite.bundle import Bundle

    bundle = Bundle.open(out)
    golden = {}
    for fmt in formats:
        vectors = embed_backend(create_backend(bundle, fmt, threads=1), text_encoder, GOLDEN_TEXTS)
        golden[fmt] = np.round(vectors, 7).tolist()
    return golden


def build_manifest(
    encoder,
    checkpoint: str | Path,
    name: str | None,
    out: Path,
    format_meta: dict[str, Any],
    sets_meta: dict[str, Any],
    templates: Sequence[str],
    max_length: int,
    buckets: Sequence[int],
) -> dict[str, Any]:
    """Every manifest field but `files` (write_manifest's), golden vectors and the parity verdict."""
    meta = encoder.meta
    name = name or meta_name(meta, checkpoint)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "encoder": {
            "name": name,
            "base_model": meta.get("base_model"),
            "parameters": int(sum(p.numel() for p in encoder.parameters())),
            "embedding_dim": encoder.embedding_dim,
            "num_layers": int(encoder.transformer.config.num_hidden_layers),
            "pooling": meta["pooling"],
            "normalized": True,
        },
        "tokenizer": tokenizer_settings(
            json.loads((out / "tokenizer.json").read_text()), encoder_vocab(out), max_length
        ),
        "sequence_buckets": list(buckets),
        "formats": format_meta,
        "preferred_backend": "onnx" if "onnx" in format_meta else next(iter(format_meta)),
        "scoring": {
            "similarity": "cosine",
            **encoder.scoring(),
            "multi_label": "sigmoid(logit_scale * cos + logit_bias) >= threshold; at least the top label",
            "single_label": "softmax(logit_scale * cos + logit_bias); argmax",
            "per_set": "a label set's own logit_scale and logit_bias, when it has them, replace these",
            "default_threshold": 0.5,
        },
        "preprocessing": {"emoji_names": EMOJI_FILE},
        "label_templates": list(templates),
        "default_label_set": "goemotions" if "goemotions" in sets_meta else next(iter(sets_meta)),
        "label_sets": sets_meta,
        "golden": {
            "texts": list(GOLDEN_TEXTS),
            "batch_size": GOLDEN_BATCH,
            "min_cosine": GOLDEN_MIN_COSINE,
            "embeddings": {},
        },
        "training": meta.get("training"),
        "evaluation": meta.get("evaluation"),
    }


def encoder_vocab(out: Path) -> dict[str, int]:
    """vocab.txt as token -> id (the line number)."""
    lines = (out / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return {token: i for i, token in enumerate(lines)}


def finish_bundle(out: Path, manifest: dict[str, Any], report: dict[str, Any]) -> None:
    """parity.json, the measured backend preference, the model card, then the final manifest."""
    timings = {fmt: r["probe_ms_per_text"] for fmt, r in report["formats"].items()}
    manifest["preferred_backend"] = min(timings, key=timings.get)
    manifest["parity"] = {"file": "parity.json", "pass": report["pass"]}
    (out / "parity.json").write_text(
        json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(model_card.render(manifest, report, out), encoding="utf-8")
    validate_manifest(manifest)  # the schema every reader relies on; `files` is rewritten below, same shape
    write_manifest(out, manifest)


def meta_name(meta: dict[str, Any], checkpoint: str | Path) -> str:
    """The checkpoint's own name, else one for the base encoder or after the checkpoint folder."""
    if meta.get("name"):
        return meta["name"]
    return "emolite-base-minilm-l6" if meta.get("training") is None else f"emolite-{Path(checkpoint).name}"
