"""Training pairs: teacher-annotated texts and the descriptor texts their labels are matched against.

A text's positives are the descriptors (free-form mode) or labels (label mode) its teacher gave it. Each
label key is shown to the encoder through several *views* so that the space learns the emotion rather than
one string: the bare word, sentence templates ("The writer feels {label}."), a paraphrase word in those
templates, and a short definition. Paraphrases were written for this project from common dictionary
senses; no dataset label went into them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from emolite.catalog import DEFINITIONS
from emolite.errors import EmoliteError

from .store import AnnotationStore, Record

# Templates seen in training; the label-embedding ensemble (emolite.json `label_templates`) is a subset.
TRAIN_TEMPLATES = (
    "{label}",
    "I feel {label}.",
    "The writer feels {label}.",
    "This text expresses {label}.",
    "A feeling of {label}.",
    "Someone who is full of {label}.",
)

PARAPHRASES: dict[str, tuple[str, ...]] = {
    "admiration": ("admiring", "impressed", "respect", "awe"),
    "amusement": ("amused", "funny", "laughing", "humor"),
    "anger": ("angry", "furious", "rage", "mad"),
    "annoyance": ("annoyed", "irritated", "bothered", "frustration"),
    "approval": ("approving", "agreement", "support", "endorsement"),
    "caring": ("kindness", "compassion", "concern for others", "sympathy"),
    "confusion": ("confused", "puzzled", "bewildered", "uncertain"),
    "curiosity": ("curious", "interested", "inquisitive", "wondering"),
    "desire": ("wanting", "longing", "craving", "wish"),
    "disappointment": ("disappointed", "let down", "dissatisfied", "unfulfilled hopes"),
    "disapproval": ("disapproving", "disagreement", "criticism", "objection"),
    "disgust": ("disgusted", "revulsion", "gross", "repulsed"),
    "embarrassment": ("embarrassed", "awkward", "ashamed", "self-conscious"),
    "excitement": ("excited", "thrilled", "enthusiasm", "eager"),
    "fear": ("afraid", "scared", "terrified", "frightened"),
    "gratitude": ("grateful", "thankful", "thanks", "appreciation"),
    "grief": ("grieving", "mourning", "heartbroken", "bereaved"),
    "joy": ("happy", "happiness", "delighted", "glad"),
    "love": ("loving", "affection", "adoration", "fondness"),
    "nervousness": ("nervous", "anxious", "worried", "uneasy"),
    "optimism": ("optimistic", "hopeful", "hope", "confident about the future"),
    "pride": ("proud", "self-satisfaction", "accomplished", "dignity"),
    "realization": ("realizing", "insight", "understanding", "awareness"),
    "relief": ("relieved", "at ease", "reassured", "weight off my shoulders"),
    "remorse": ("regret", "sorry", "guilty", "apologetic"),
    "sadness": ("sad", "unhappy", "sorrow", "down"),
    "surprise": ("surprised", "astonished", "shocked", "amazed"),
    "neutral": ("no emotion", "neutral statement", "matter of fact", "unemotional"),
}


class TrainingDataError(EmoliteError, ValueError):
    """The annotation store holds no usable teacher answers for the requested selection."""


@dataclass(frozen=True)
class Example:
    """One teacher-annotated text: its id, text and the teacher's label/descriptor keys."""

    id: str
    text: str
    labels: tuple[str, ...]


# -- reading the annotation store ----------------------------------------------------------------
def record_split(record: Record) -> str | None:
    """The source split of a store record ('dev', 'test', ...); texts of a 'val' split count as 'dev'."""
    value = str(record.split or "").lower()
    return {"val": "dev", "validation": "dev"}.get(value, value) or None


def record_keys(record: Record) -> tuple[str, ...]:
    """Normalised positive keys of a record: labels in label mode, descriptors otherwise."""
    raw = record.labels if record.mode == "labels" else record.descriptors
    keys = []
    for item in raw or ():
        key = " ".join(str(item).lower().split())
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def store_examples(store: str | Path, split: str | None = "dev", teacher: str | None = None) -> list[Example]:
    """Done records of the annotation store as Examples, optionally of some source splits ("train,dev")
    and one teacher."""
    splits = None if split is None else {s.strip() for s in split.split(",") if s.strip()}
    if splits is not None and "test" in splits:
        raise TrainingDataError("test texts are for evaluation only; train on other splits (e.g. 'train,dev')")
    out = []
    for record in AnnotationStore(store, create=False).records(status="done"):
        source = record_split(record)
        if source == "test" or (splits is not None and source not in splits):  # test never trains
            continue
        if teacher is not None and record.teacher != teacher:
            continue
        keys = record_keys(record)
        if keys:
            out.append(Example(str(record.id), record.text, keys))
    if not out:
        raise TrainingDataError(f"no usable teacher records in {store} (split={split!r}, teacher={teacher!r})")
    return out


def without_labels(examples: Sequence[Example], labels: Sequence[str]) -> list[Example]:
    """The examples with `labels` removed from their keys; examples left with no key are dropped."""
    drop = set(labels)
    out = []
    for ex in examples:
        keys = tuple(k for k in ex.labels if k not in drop)
        if keys:
            out.append(Example(ex.id, ex.text, keys))
    return out


def holdout_split(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, held-out) by a hash of the id: stable across runs, machines and record order."""
    train, held = [], []
    for ex in examples:
        digest = hashlib.sha256(f"{seed}:{ex.id}".encode()).digest()
        (held if int.from_bytes(digest[:8], "big") / 2**64 < fraction else train).append(ex)
    return train, held


def vocabulary(examples: Iterable[Example], min_count: int = 1) -> list[str]:
    """Label keys seen at least `min_count` times, most frequent first (ties by name)."""
    counts: dict[str, int] = {}
    for ex in examples:
        for key in ex.labels:
            counts[key] = counts.get(key, 0) + 1
    return sorted((k for k, c in counts.items() if c >= min_count), key=lambda k: (-counts[k], k))


# -- descriptor views ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DescriptorViews:
    """How a label key is turned into descriptor texts during training."""

    templates: tuple[str, ...] = TRAIN_TEMPLATES
    paraphrase_prob: float = 0.3
    definition_prob: float = 0.2

    def sample(self, key: str, rng: random.Random) -> str:
        """One random view of `key`: the definition, or a template around the word or a paraphrase."""
        roll = rng.random()
        if key in DEFINITIONS and roll < self.definition_prob:
            return f"{key}: {DEFINITIONS[key]}"
        word = key
        if PARAPHRASES.get(key) and rng.random() < self.paraphrase_prob:
            word = rng.choice(PARAPHRASES[key])
        return rng.choice(self.templates).format(label=word)


# -- batches -------------------------------------------------------------------------------------
@dataclass
class Batch:
    """Texts of one step, the descriptor texts of the whole vocabulary and the 0/1 target matrix."""

    texts: list[str]
    descriptors: list[str]
    targets: list[list[float]]  # (len(texts), len(descriptors))


def epoch_batches(
    examples: Sequence[Example],
    vocab: Sequence[str],
    views: DescriptorViews,
    batch_size: int,
    views_per_label: int,
    seed: int,
    epoch: int,
    max_descriptors: int = 0,
) -> Iterator[Batch]:
    """Shuffled full batches of one epoch (the last partial batch is dropped so shards stay equal).

    The randomness depends only on (seed, epoch, step), so every process of a distributed run draws the
    same batch and the same descriptor views, and a resumed run replays the same epoch.
    """
    for step, idx in enumerate(batch_order(examples, batch_size, seed, epoch)):
        rows = [examples[i] for i in idx]
        rng = random.Random(f"{seed}:{epoch}:{step}:views")
        keys = [k for k in step_vocabulary(vocab, rows, max_descriptors, rng) for _ in range(views_per_label)]
        descriptors = [views.sample(k, rng) for k in keys]
        targets = [[1.0 if k in ex.labels else 0.0 for k in keys] for ex in rows]
        yield Batch([ex.text for ex in rows], descriptors, targets)


def batch_order(examples: Sequence[Example], batch_size: int, seed: int, epoch: int, pool: int = 32) -> list[list[int]]:
    """Shuffled full batches of similar text length: padding is most of the cost of a CPU step.

    Texts are shuffled, cut into pools of `pool` batches, sorted by length inside a pool, batched, and the
    batches shuffled again, so every batch is still a random draw of the data.
    """
    rng = random.Random(f"{seed}:{epoch}:order")
    order = list(range(len(examples)))
    rng.shuffle(order)
    order = order[: len(order) // batch_size * batch_size]
    batches = []
    for start in range(0, len(order), pool * batch_size):
        chunk = sorted(order[start : start + pool * batch_size], key=lambda i: len(examples[i].text))
        batches += [chunk[k : k + batch_size] for k in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def step_vocabulary(vocab: Sequence[str], rows: Sequence[Example], limit: int, rng: random.Random) -> list[str]:
    """The label keys scored in one step: the whole vocabulary, or (free-form descriptors, `limit` > 0)
    the batch's positives plus random vocabulary negatives up to `limit` keys."""
    if limit <= 0 or len(vocab) <= limit:
        return list(vocab)
    known = set(vocab)
    chosen = list(dict.fromkeys(k for ex in rows for k in ex.labels if k in known))[:limit]
    taken = set(chosen)
    rest = [k for k in vocab if k not in taken]
    return chosen + rng.sample(rest, max(0, min(len(rest), limit - len(chosen))))


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    return n_examples // batch_size
