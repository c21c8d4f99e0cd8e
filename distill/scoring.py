"""Scorers: one interface over a torch checkpoint and an exported bundle run by the SDK.

Both give text embeddings, label-set embeddings, the scoring scale and bias, and per-label thresholds; the
scoring rule itself (probabilities, decision, label rows) is `emolite.scoring`, the SDK's, so that a
checkpoint is scored by training, calibration and evaluation exactly as its exported bundle will be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from emolite import scoring
from emolite.catalog import LABEL_SETS, TEMPLATES
from emolite.emoji import default_names

if TYPE_CHECKING:
    from emolite.distill.model import StudentEncoder


@dataclass(frozen=True)
class LabelView:
    """A label set as a scorer sees it."""

    name: str
    labels: tuple[str, ...]
    embeddings: np.ndarray  # (n_labels, dim), L2-normalised
    thresholds: np.ndarray  # (n_labels,)
    multi_label: bool
    scale: float | None = None  # the set's own calibration, when it has one (else the model's)
    bias: np.ndarray | None = None  # (n_labels,)

    def probabilities(self, text_emb: np.ndarray, scale: float, bias: float) -> np.ndarray:
        """(n, k) probabilities of this set's labels for L2-normalised text embeddings (the SDK's rule);
        `scale` and `bias` are the model's, used unless the set has its own calibration."""
        own_scale = scale if self.scale is None else self.scale
        own_bias = bias if self.bias is None else self.bias
        return scoring.probabilities(text_emb, self.embeddings, own_scale, own_bias, self.multi_label)

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """(n, k) bool: the labels the SDK decides on with this set's thresholds."""
        return scoring.decide(probs, self.thresholds, self.multi_label)


class TorchScorer:
    """A student checkpoint ('base' = all-MiniLM-L6-v2) in fp32 torch, scored like its bundle."""

    def __init__(
        self,
        checkpoint: str | Path | StudentEncoder,
        thresholds: dict | None = None,
        batch_size: int = 128,
        members: bool | None = None,
        calibration: dict | None = None,
    ):
        """`thresholds`, `members` (grouped sets embed their members' prompts) and `calibration` (per-set
        scale and biases) default to what the checkpoint's emolite.json records."""
        from emolite.distill.model import StudentEncoder, load_tokenizer

        self.encoder = checkpoint if not isinstance(checkpoint, (str, Path)) else StudentEncoder.from_pretrained(checkpoint)
        self.tokenizer = load_tokenizer(self.encoder.source)
        meta = self.encoder.meta
        self.templates = tuple(meta.get("label_templates") or TEMPLATES)
        self.thresholds = meta.get("thresholds") or {} if thresholds is None else thresholds
        self.max_length = int(meta["max_seq_length"])
        self.batch_size = batch_size
        self.members = bool(meta.get("label_members", False)) if members is None else members
        self.calibration = (meta.get("calibration") or {}) if calibration is None else calibration
        self.name = meta.get("name") or str(getattr(self.encoder, "source", "checkpoint"))

    @property
    def logit_scale(self) -> float:
        return self.encoder.scoring()["logit_scale"]

    @property
    def logit_bias(self) -> float:
        return self.encoder.scoring()["logit_bias"]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """fp32 embeddings, batched by length (sorting keeps padding small on CPU)."""
        import torch

        texts = list(texts)
        names = default_names()  # emoji -> words, as the bundle's text pipeline does
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.encoder.embedding_dim), dtype=np.float32)
        was_training = self.encoder.training
        self.encoder.eval()
        with torch.no_grad():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [names.apply(texts[i]) for i in idx], padding=True, truncation=True, max_length=self.max_length,
                    return_tensors="pt",
                )
                out[idx] = self.encoder(enc["input_ids"], enc["attention_mask"]).numpy()
        self.encoder.train(was_training)
        return out

    def label_set(self, name: str) -> LabelView:
        spec = LABEL_SETS[name]
        rows = scoring.label_rows(self.embed, spec.prompts(self.templates, members=self.members))
        chosen = self.thresholds.get(name, {})
        thresholds = np.array([float(chosen.get(label, 0.5)) for label in spec.labels], dtype=np.float32)
        own = self.calibration.get(name) or {}
        bias = None if own.get("logit_bias") is None else np.asarray(own["logit_bias"], np.float32)
        return LabelView(
            name, tuple(spec.labels), rows.astype(np.float32), thresholds, spec.multi_label, own.get("logit_scale"), bias
        )


class BundleScorer:
    """An exported bundle run through the SDK (emolite.load), e.g. the int8 ONNX model."""

    def __init__(self, bundle: str | Path, backend: str = "onnx"):
        import emolite

        self.clf = emolite.load(bundle, backend=backend)
        self.logit_scale = self.clf.logit_scale
        self.logit_bias = self.clf.logit_bias
        self.name = self.clf.bundle.manifest.get("name", str(bundle))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.clf.embed(list(texts))

    def label_set(self, name: str) -> LabelView:
        ls = self.clf.bundle.label_set(name)
        return LabelView(
            name, ls.labels, ls.embeddings, np.asarray(ls.thresholds, np.float32), ls.multi_label, ls.logit_scale,
            ls.logit_bias,
        )


Scorer = Union[TorchScorer, BundleScorer]  # what calibration and evaluation take
