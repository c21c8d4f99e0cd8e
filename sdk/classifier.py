"""The classifier: embed texts, compare with label embeddings, decide."""

from __future__ import annotations

import copy
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Union, overload

import numpy as np

from . import scoring, user_sets
from .backends import Backend
from .bundle import Bundle, LabelSet
from .errors import InputTypeError, InvalidInputError, RuntimeVerificationError, UnknownLabelSetError
from .text import as_text_list, check_positive_int

Labels = Union[str, Sequence[str], None]
# progress: True (a tqdm bar when tqdm is installed), or a callable(done, total) called after each chunk
Progress = Union[bool, Callable[[int, int], None], None]


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

    def __init__(
        self, bundle: Bundle, backend: Backend, batch_size: int | None = None, threads: int | None = None
    ):
        self.bundle = bundle
        self.backend = backend
        self.threads = threads
        if batch_size is None:
            batch_size = 32 if getattr(backend, "batch_invariant", False) else 1
        self.batch_size = batch_size
        self.encoder = bundle.text_encoder()
        scoring = bundle.manifest["scoring"]
        self.logit_scale = float(scoring["logit_scale"])
        self.logit_bias = float(scoring.get("logit_bias", 0.0))
        self.default_threshold = float(scoring.get("default_threshold", 0.5))
        self.templates: list[str] = list(bundle.manifest.get("label_templates", ["{label}"]))
        self._label_cache: dict[str, np.ndarray] = {}
        self._offsets: dict[tuple, np.ndarray] = {}  # per label set: logit offsets set by `adapt`
        self._lock = threading.Lock()
        self.verify_runtime()

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def __repr__(self) -> str:
        adapted = f", adapted to {len(self._offsets)} label set(s)" if self._offsets else ""
        return (
            f"Classifier(bundle={self.bundle.manifest.get('name')!r} at {str(self.bundle.root)!r}, "
            f"backend={self.backend_name!r}, threads={self.threads}, batch_size={self.batch_size}{adapted})"
        )

    # -- embeddings ------------------------------------------------------------------------------
    def embed(self, texts: str | Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings: (dim,) for one str, (n, dim) float32 for a list."""
        items, single = as_text_list(texts)
        vectors, _ = self._embed(items)
        return vectors[0] if single else vectors

    def _embed(
        self, items: list[str], batch_size: int | None = None, progress: Progress = None
    ) -> tuple[np.ndarray, list[bool]]:
        out = np.empty((len(items), self.bundle.dim), dtype=np.float32)
        if not items:
            return out, []
        ids, truncated = self.encoder.encode(items)
        report = _progress_reporter(progress, len(items))
        done = 0
        try:
            for chunk in self.encoder.chunks(ids, batch_size or self.batch_size):
                out[chunk.index] = self.backend.run(chunk.input_ids, chunk.attention_mask)
                done += len(chunk.index)
                report(done)
        finally:
            report(None)
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
            label_set = self._named_label_set(labels)
        else:
            label_set = self._custom_label_set(labels)
        if multi_label is not None and not isinstance(multi_label, bool):
            raise InputTypeError(f"multi_label must be True, False or None, got {type(multi_label).__name__}")
        return label_set, label_set.multi_label if multi_label is None else multi_label

    def _named_label_set(self, name: str) -> LabelSet:
        """A bundle set (names are case-insensitive), else a set the user saved with `add_label_set`."""
        if self.bundle.label_set_name(name) is not None:
            return self.bundle.label_set(name)
        saved = user_sets.load_all()
        folded = {n.casefold(): s for n, s in saved.items()}
        entry = folded.get(name.strip().casefold())
        if entry is None:
            known = ", ".join(self.bundle.label_set_names() + sorted(saved))
            raise UnknownLabelSetError(
                f"unknown label set '{name}'; this bundle has: {known} (or pass a list of label words)"
            )
        return self._user_label_set(entry)

    def _user_label_set(self, entry: user_sets.UserLabelSet) -> LabelSet:
        custom = self._custom_label_set(entry.labels, entry.descriptions)
        threshold = self.default_threshold if entry.threshold is None else entry.threshold
        return replace(
            custom,
            name=entry.name,
            multi_label=entry.multi_label,
            thresholds=np.full(len(entry.labels), threshold, dtype=np.float32),
            description="saved by the user",
        )

    def add_label_set(
        self,
        name: str,
        labels: Sequence[str],
        descriptions: dict[str, str | Sequence[str]] | None = None,
        multi_label: bool = False,
        threshold: float | None = None,
    ) -> LabelSet:
        """Save a label set under `name`, for this and every later process (see `emolite.user_sets`).

        `descriptions` (label -> a short definition or several phrasings) are embedded with the label word,
        as the bundle's own sets are. Returns the set as this bundle embeds it.
        """
        if not isinstance(name, str):
            raise InputTypeError(f"name must be a str, got {type(name).__name__}")
        name = name.strip()
        if not name or "," in name:
            raise InvalidInputError(f"label-set name {name!r} must be a non-empty word without commas")
        if self.bundle.label_set_name(name) is not None:
            raise InvalidInputError(f"'{name}' is a label set of the bundle; choose another name")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise InputTypeError(f"threshold must be a number, got {type(threshold).__name__}")
        if threshold is not None and not 0 < threshold < 1:
            raise InvalidInputError(f"threshold must be between 0 and 1, got {threshold}")
        if not isinstance(multi_label, bool):
            raise InputTypeError(f"multi_label must be True or False, got {type(multi_label).__name__}")
        words, _ = as_text_list(labels, what="labels")
        texts = {}
        for label, value in (descriptions or {}).items():
            if label not in words:
                raise InvalidInputError(f"description for '{label}', which is not one of the labels {words}")
            texts[label] = [value] if isinstance(value, str) else list(as_text_list(value, what="descriptions")[0])
        entry = user_sets.UserLabelSet(name, tuple(w.strip() for w in words), texts, multi_label, threshold)
        label_set = self._user_label_set(entry)  # validates (duplicates, empty words) before anything is written
        user_sets.save(entry)
        return label_set

    def _custom_label_set(
        self, labels: Sequence[str], descriptions: dict[str, list[str]] | None = None
    ) -> LabelSet:
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
        descriptions = descriptions or {}
        prompts = {w: [t.format(label=w) for t in self.templates] + [f"{w}: {d}" for d in descriptions.get(w, [])]
                   for w in words}  # the texts `_label_embedding` embeds, recorded on the set
        embeddings = np.stack([self._label_embedding(w, tuple(descriptions.get(w, ()))) for w in words])
        return LabelSet(
            name="",
            labels=tuple(words),
            prompts=prompts,
            multi_label=False,
            thresholds=np.full(len(words), self.default_threshold, dtype=np.float32),
            embeddings=embeddings,
        )

    def _label_embedding(self, word: str, descriptions: tuple[str, ...] = ()) -> np.ndarray:
        """The label row of a word over the bundle's templates (and its descriptions); cached."""
        key = "\n".join((word, *descriptions))
        with self._lock:
            cached = self._label_cache.get(key)
        if cached is None:
            prompts = [t.format(label=word) for t in self.templates] + [f"{word}: {d}" for d in descriptions]
            cached = scoring.label_row(self._embed(prompts)[0])
            with self._lock:
                self._label_cache[key] = cached
        return cached

    # -- scoring ---------------------------------------------------------------------------------
    def _probabilities(self, vectors: np.ndarray, label_set: LabelSet, multi_label: bool) -> np.ndarray:
        offsets = self._offsets.get(_set_key(label_set, multi_label))
        scale = self.logit_scale if label_set.logit_scale is None else label_set.logit_scale
        bias = self.logit_bias if label_set.logit_bias is None else label_set.logit_bias
        return scoring.probabilities(vectors, label_set.embeddings, scale, bias, multi_label, offsets)

    @overload
    def scores(self, texts: str, labels: Labels = ..., multi_label: bool | None = ...) -> np.ndarray: ...
    @overload
    def scores(self, texts: Iterable[str], labels: Labels = ..., multi_label: bool | None = ...) -> np.ndarray: ...

    def scores(self, texts, labels: Labels = None, multi_label: bool | None = None) -> np.ndarray:
        """Probabilities (n_texts, n_labels) in the label order given; (n_labels,) for one str.

        Single-label sets give a softmax over the labels; multi-label sets give independent sigmoids.
        """
        items, single = as_text_list(texts)
        label_set, multi = self._resolve_labels(labels, multi_label)
        vectors, _ = self._embed(items)
        probs = self._probabilities(vectors, label_set, multi)
        return probs[0] if single else probs

    @overload
    def predict(  # type: ignore[overload-overlap]  # a str is also an Iterable[str]: the str case comes first
        self,
        texts: str,
        labels: Labels = ...,
        top_k: int | None = ...,
        multi_label: bool | None = ...,
        threshold: float | None = ...,
        progress: Progress = ...,
    ) -> Prediction: ...
    @overload
    def predict(
        self,
        texts: Iterable[str],
        labels: Labels = ...,
        top_k: int | None = ...,
        multi_label: bool | None = ...,
        threshold: float | None = ...,
        progress: Progress = ...,
    ) -> list[Prediction]: ...

    def predict(
        self,
        texts,
        labels: Labels = None,
        top_k: int | None = None,
        multi_label: bool | None = None,
        threshold: float | None = None,
        progress: Progress = None,
    ):
        """Classify one text (-> Prediction) or a list (-> list[Prediction]).

        `labels` is a label-set name (see `label_sets()`; case-insensitive; also the sets saved with
        `add_label_set`), a list of any label words, or None for the bundle's default set. Multi-label sets
        predict every label whose probability reaches its threshold (`threshold` overrides the set's own, for
        every label), and always the top one; single-label sets predict the top label. `progress=True`
        shows a tqdm bar (when tqdm is installed); a callable gets (done, total) after each chunk.
        """
        top_k = check_positive_int("top_k", top_k)
        items, single = as_text_list(texts)
        label_set, multi = self._resolve_labels(labels, multi_label)
        thresholds = label_set.thresholds if threshold is None else self._threshold_override(threshold, multi, label_set)
        vectors, truncated = self._embed(items, progress=progress)
        probs = self._probabilities(vectors, label_set, multi)
        chosen = scoring.decide(probs, thresholds, multi)
        results = [
            self._prediction(text, p, c, label_set, multi, trunc, top_k)
            for text, p, c, trunc in zip(items, probs, chosen, truncated)
        ]
        return results[0] if single else results

    @staticmethod
    def _threshold_override(threshold: object, multi: bool, label_set: LabelSet) -> np.ndarray:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
            raise InputTypeError(f"threshold must be a number or None, got {type(threshold).__name__}")
        if not 0 < float(threshold) < 1:
            raise InvalidInputError(f"threshold must be between 0 and 1, got {threshold}")
        if not multi:
            raise InvalidInputError(
                "threshold applies to multi-label decisions; this label set is single-label (pass multi_label=True)"
            )
        return np.full(len(label_set.labels), float(threshold), dtype=np.float32)

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

    # -- label-free domain adaptation -------------------------------------------------------------
    def adapt(
        self, texts: Iterable[str], labels: Labels = None, multi_label: bool | None = None, strength: float = 1.0
    ) -> Classifier:
        """A classifier corrected for the label priors of the domain of `texts` (unlabelled; in memory only).

        The mean probability of each label over `texts` estimates how often this model gives it in that
        domain; each label's logit is lowered by `strength` times the log of that prior, relative to the
        mean over labels (for a single-label set this divides each probability by its prior and
        renormalises). Labels the model over-uses in the domain lose weight; rare ones gain. The original
        classifier is unchanged; the result shares its runtime and caches. Measured effect: docs/results.md.
        """
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 <= strength <= 1:
            raise InvalidInputError(f"strength must be a number in [0, 1], got {strength!r}")
        items, _ = as_text_list(list(texts) if not isinstance(texts, str) else texts)
        if not items:
            raise InvalidInputError("adapt needs at least one unlabelled text of the target domain")
        label_set, multi = self._resolve_labels(labels, multi_label)
        key = _set_key(label_set, multi)
        vectors, _ = self._embed(items)
        offsets = scoring.prior_offsets(self._probabilities(vectors, label_set, multi), strength)
        adapted = copy.copy(self)
        adapted._offsets = {**self._offsets, key: (self._offsets.get(key, 0.0) + offsets).astype(np.float32)}
        return adapted


def _set_key(label_set: LabelSet, multi: bool) -> tuple:
    """Identity of a label set as scored (its name or its words, and the decision mode)."""
    return (label_set.name, label_set.labels, multi)


def _progress_reporter(progress: Progress, total: int) -> Callable[[int | None], None]:
    """report(done) after each chunk, report(None) at the end."""
    if progress is None or progress is False:
        return lambda done: None
    if callable(progress) and not isinstance(progress, bool):
        return lambda done: None if done is None else progress(done, total)
    if progress is not True:
        raise InputTypeError(f"progress must be True, False, None or a callable, got {type(progress).__name__}")
    try:
        from tqdm import tqdm
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install tqdm); no progress shown", stacklevel=4)
        return lambda done: None
    bar = tqdm(total=total, unit="text", leave=False)
    state = {"done": 0}

    def report(done: int | None) -> None:
        if done is None:
            bar.close()
            return
        bar.update(done - state["done"])
        state["done"] = done

    return report
