"""The scoring rule, written once: probabilities from cosine similarities, the decision, the label rows.

The classifier, threshold calibration, evaluation, the export's parity gates and the Android golden
generator all call these functions, so that a checkpoint is scored exactly as its bundle will be
(numpy only: the SDK never imports torch).
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def probabilities(
    vectors: np.ndarray,
    label_embeddings: np.ndarray,
    scale: float,
    bias: float | np.ndarray,
    multi_label: bool,
    offsets: np.ndarray | None = None,
) -> np.ndarray:
    """sigmoid(scale * cos + bias) per label for multi-label sets, softmax(scale * cos + bias) otherwise.

    `vectors` (n, dim) and `label_embeddings` (k, dim) are L2-normalised; returns (n, k) float32. `bias` is
    one number or one per label (a label set's own calibration; a scalar cancels in the softmax).
    `offsets` (k,) are added to the logits: the SDK's prior correction (`Classifier.adapt`), else none.
    """
    logits = scale * (np.asarray(vectors, np.float32) @ np.asarray(label_embeddings, np.float32).T)
    logits = logits + np.asarray(bias, np.float32)
    if offsets is not None:
        logits = logits + np.asarray(offsets, np.float32)[None, :]
    probs = sigmoid(logits) if multi_label else softmax(logits)
    return probs.astype(np.float32, copy=False)


def decide(probs: np.ndarray, thresholds: np.ndarray, multi_label: bool) -> np.ndarray:
    """(n, k) bool: the top label always, plus (multi-label) every label at or over its threshold.

    Ties for the top go to the first label, as in `ranking`.
    """
    probs = np.atleast_2d(probs)
    chosen = np.zeros(probs.shape, dtype=bool)
    chosen[np.arange(len(probs)), probs.argmax(axis=1)] = True
    if multi_label:
        chosen |= probs >= np.asarray(thresholds)[None, :]
    return chosen


def prior_offsets(domain_probs: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Logit offsets that correct for the label priors of a domain, from probabilities on its texts.

    The mean probability of each label over the domain's (unlabelled) texts estimates its prior there; each
    label's logit is lowered by `strength` times the log of that prior, relative to the mean over labels.
    For a softmax this divides each probability by its prior and renormalises (label-free prior correction).
    """
    priors = np.asarray(domain_probs, np.float64).mean(axis=0)
    log_priors = np.log(np.clip(priors, 1e-6, None))
    return (-strength * (log_priors - log_priors.mean())).astype(np.float32)


def ranking(probs: np.ndarray) -> np.ndarray:
    """Label indices by decreasing probability, ties in label order (one row -> one order)."""
    return np.argsort(-np.asarray(probs), axis=-1, kind="stable")


def label_row(prompt_vectors: np.ndarray) -> np.ndarray:
    """A label's embedding: the mean of its prompt embeddings, L2-normalised (open_clip's prompt ensemble)."""
    mean = np.asarray(prompt_vectors, np.float32).mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def label_rows(embed, prompts: dict[str, list[str]]) -> np.ndarray:
    """(k, dim) little-endian float32 rows, one per label of `prompts` (label -> prompt texts), in its order."""
    return np.stack([label_row(embed(list(texts))) for texts in prompts.values()]).astype("<f4")
