"""The classifier: embed texts, compare with label embeddings, decide."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from . import scoring
from .backends import Backend
from .bundle import Bundle, LabelSet
from .errors import InvalidInputError, RuntimeVerificationError
from .text import TextEncoder, as_text_list, check_positive_int

Labels = Union[str, Sequence[str], None]


@dataclass
class Prediction:
    """Scores of one text over a label set, sorted by score (highest first)."""

    sequence: str
    labels: list[str]
    scores: list[float]
    predicted: list[str]
    label_set: str | None = None
    multi_label: bool = False
    truncated: bool = False

    @property
    def top(self) -> str:
        return self.labels[0]

    def as_dict(self) -> dict[str, float]:
        """Label -> score, highest first."""
        return dict(zip(self.labels, self.scores))

    def to_dict(self) -> dict:
        """The Hugging Face zero-shot pipeline's shape: sequence, labels, scores; plus predicted."""
        return {"sequence": self.sequence, "labels": self.labels, "scores": self.scores, "predicted": self.predicted}


class Classifier:
    """Zero-shot emotion classifier over a verified bundle and a runtime backend.

    Example:
        >>> clf = emolite.load()
        >>> clf.predict("I can't believe I won!").predicted
        ['excitement', 'joy']
    """

    def __init__(self, bundle: Bundle, backend: Backend, batch_size: int | None = None):
        self.bundle = bundle
        self.backend = backend
        if batch_size is None:
            batch_size = 32 if getattr(backend, "batch_invariant", False) else 1
        self.batch_size = batch_size
        tok = bundle.manifest["tokenizer"]
        self.encoder = TextEncoder(bundle.file(tok["file"]), bundle.max_seq_length, tok.get("pad_id", 0))
        scoring = bundle.manifest["scoring"]
        self.logit_scale = float(scoring["logit_scale"])
        self.logit_bias = float(scoring.get("logit_bias", 0.0))
        self.default_threshold = float(scoring.get("default_threshold", 0.5))
        self.templates: list[str] = list(bundle.manifest.get("label_templates", ["{label}"]))
        self._label_cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self.verify_runtime()

    @property
    def backend_name(self) -> str:
        return self.backend.name

    # -- embeddings ------------------------------------------------------------------------------
    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings: (dim,) for one str, (n, dim) float32 for a list."""
        items, single = as_text_list(texts)
        vectors, _ = self._embed(items)
        return vectors[0] if single else vectors

    def _embed(self, items: list[str], batch_size: int | None = None) -> tuple[np.ndarray, list[bool]]:
        out = np.empty((len(items), self.bundle.dim), dtype=np.float32)
        if not items:
            return out, []
        ids, truncated = self.encoder.encode(items)
        for chunk in self.encoder.chunks(ids, batch_size or self.batch_size):
            out[chunk.index] = self.backend.run(chunk.input_ids, chunk.attention_mask)
        return out, truncated

    def verify_runtime(self) -> None:
        """Prove the runtime right on the bundle's golden texts before it classifies anything."""
        golden = self.bundle.manifest["golden"]
        expected = golden.get("embeddings", {}).get(self.backend.name)
        if expected is None:
            raise RuntimeVerificationError(
                f"bundle has no golden vectors for the {self.backend.name} backend; re-export the bundle"
            )
        got, _ = self._embed(list(golden["texts"]), batch_size=1)  # golden vectors are recorded one per run
        cosine = np.sum(got * np.asarray(expected, dtype=np.float32), axis=1)
        worst = float(cosine.min())
        if not worst >= float(golden.get("min_cosine", 0.99)):  # `not >=` also catches NaN
            raise RuntimeVerificationError(
                f"the {self.backend.name} runtime gives wrong embeddings for this bundle (golden-vector "
                f"cosine {worst:.4f} < {golden.get('min_cosine', 0.99)}); its output cannot be trusted. "
                "Use onnxruntime or ai-edge-litert (pip install ai-edge-litert), not tflite-runtime"
            )

    # -- labels ----------------------------------------------------------------------------------
    def label_sets(self) -> list[str]:
        return self.bundle.label_set_names()

    def _resolve_labels(self, labels: Labels, multi_label: bool | None) -> tuple[LabelSet, bool]:
        if labels is None:
            labels = self.bundle.default_label_set
        if isinstance(labels, str):
            label_set = self.bundle.label_set(labels)
        else:
            label_set = self._custom_label_set(labels)
        return label_set, label_set.multi_label if multi_label is None else bool(multi_label)

    def _custom_label_set(self, labels: Sequence[str]) -> LabelSet:
        words, _ = as_text_list(labels, what="labels")
        if not words:
            raise InvalidInputError("labels is an empty list; give at least one label word or a label-set name")
        words = [w.strip() for w in words]
        seen: dict[str, int] = {}
        for i, word in enumerate(words):
            key = word.casefold()
            if key in seen:
                raise InvalidInputError(f"label '{word}' at index {i} duplicates index {seen[key]}; labels must be unique")
            seen[key] = i
        embeddings = np.stack([self._label_embedding(w) for w in words])
        return LabelSet(
            name="",
            labels=tuple(words),
            prompts={w: [t.format(label=w) for t in self.templates] for w in words},
            multi_label=False,
            thresholds=np.full(len(words), self.default_threshold, dtype=np.float32),
            embeddings=embeddings,
        )

    def _label_embedding(self, word: str) -> np.ndarray:
        """The label row of a label word over the bundle's templates; cached per word."""
        with self._lock:
            cached = self._label_cache.get(word)
        if cached is None:
            cached = scoring.label_row(self._embed([t.format(label=word) for t in self.templates])[0])
            with self._lock:
                self._label_cache[word] = cached
        return cached

    # -- scoring ---------------------------------------------------------------------------------
    def _probabilities(self, vectors: np.ndarray, label_set: LabelSet, multi_label: bool) -> np.ndarray:
        return scoring.probabilities(vectors, label_set.embeddings, self.logit_scale, self.logit_bias, multi_label)

    def scores(self, texts: str | Sequence[str], labels: Labels = None, multi_label: bool | None = None) -> np.ndarray:
        """Probabilities (n_texts, n_labels) in the label order given; (n_labels,) for one str.

        Single-label sets give a softmax over the labels; multi-label sets give independent sigmoids.
        """
        items, single = as_text_list(texts)
        label_set, multi = self._resolve_labels(labels, multi_label)
        vectors, _ = self._embed(items)
        probs = self._probabilities(vectors, label_set, multi)
        return probs[0] if single else probs

    def predict(
        self,
        texts: str | Sequence[str],
        labels: Labels = None,
        top_k: int | None = None,
        multi_label: bool | None = None,
    ) -> Prediction | list[Prediction]:
        """Classify one text (-> Prediction) or a list (-> list[Prediction]).

        `labels` is a label-set name (see `label_sets()`), a list of any label words, or None for the
        bundle's default set. Multi-label sets predict every label whose probability reaches its
        threshold, and always the top one; single-label sets predict the top label.
        """
        top_k = check_positive_int("top_k", top_k)
        items, single = as_text_list(texts)
        label_set, multi = self._resolve_labels(labels, multi_label)
        vectors, truncated = self._embed(items)
        probs = self._probabilities(vectors, label_set, multi)
        chosen = scoring.decide(probs, label_set.thresholds, multi)
        results = [
            self._prediction(text, p, c, label_set, multi, trunc, top_k)
            for text, p, c, trunc in zip(items, probs, chosen, truncated)
        ]
        return results[0] if single else results

    def _prediction(
        self,
        text: str,
        probs: np.ndarray,
        chosen: np.ndarray,
        label_set: LabelSet,
        multi: bool,
        truncated: bool,
        top_k: int | None,
    ) -> Prediction:
        order = scoring.ranking(probs)
        shown = order[:top_k] if top_k else order
        return Prediction(
            sequence=text,
            labels=[label_set.labels[i] for i in shown],
            scores=[float(probs[i]) for i in shown],
            predicted=[label_set.labels[i] for i in order if chosen[i]],
            label_set=label_set.name or None,
            multi_label=multi,
            truncated=truncated,
        )
