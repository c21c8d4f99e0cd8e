"""The real export code on the real base encoder: the bundle it writes loads and agrees with PyTorch."""

from __future__ import annotations

import json

import numpy as np

import emolite
from emolite.bundle import sha256_of

TEXTS = ["I am furious with you", "what a lovely day", "ok", "我今天很难过", "lol 😂 " * 50]


def test_exported_bundle_is_complete_and_verified(base_bundle):
    manifest = json.loads((base_bundle / "manifest.json").read_text())
    assert manifest["format_version"] == emolite.bundle.FORMAT_VERSION
    assert (base_bundle / "manifest.sha256").read_text().strip() == sha256_of(base_bundle / "manifest.json")
    assert manifest["preprocessing"]["emoji_names"] in manifest["files"]
    assert manifest["encoder"]["parameters"] > 20_000_000 and manifest["encoder"]["embedding_dim"] == 384
    for rel, meta in manifest["files"].items():
        assert (base_bundle / rel).stat().st_size == meta["bytes"]
        assert sha256_of(base_bundle / rel) == meta["sha256"]
    assert {"goemotions", "ekman", "sentiment"} <= set(manifest["label_sets"])
    assert len(manifest["label_sets"]["goemotions"]["labels"]) == 28


def test_int8_bundle_agrees_with_pytorch_fp32(base_bundle):
    import torch

    from emolite.distill.model import StudentEncoder, load_tokenizer
    from emolite.emoji import default_names

    encoder = StudentEncoder.from_pretrained("base")
    tokenizer = load_tokenizer("base")
    texts = [default_names().apply(t) for t in TEXTS]  # the bundle's text pipeline reads emoji as words
    batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        reference = encoder(batch["input_ids"], batch["attention_mask"]).numpy()
    got = emolite.load(base_bundle).embed(TEXTS)
    cosine = (reference * got).sum(axis=1)
    assert cosine.min() > 0.95, cosine


def test_label_embeddings_are_normalised_rows(base_bundle):
    bundle = emolite.Bundle.open(base_bundle)
    for name in bundle.label_set_names():
        label_set = bundle.label_set(name)
        assert label_set.embeddings.shape == (len(label_set.labels), bundle.dim)
        np.testing.assert_allclose(np.linalg.norm(label_set.embeddings, axis=1), 1.0, atol=1e-5)
