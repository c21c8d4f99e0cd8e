"""The label-set catalog: label names, prompts, short definitions, decision mode and the published groupings.

Data only (no model): the export writes these sets into bundles, training and evaluation score them, the
SDK reads the groupings. Label embeddings are the normalised mean over a prompt ensemble (open_clip's
zero-shot recipe, `emolite.scoring.label_row`): the label word in each of TEMPLATES plus its definition.
Definitions are written for this project from common dictionary senses of each emotion word; no dataset
label went into them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Templates shared with the SDK (stored in the manifest) so that custom label words are embedded the same way.
TEMPLATES = ("{label}", "I feel {label}.", "This text expresses {label}.")

DEFINITIONS: dict[str, str] = {
    "admiration": "finding something impressive or worthy of respect",
    "amusement": "finding something funny or being entertained",
    "anger": "a strong feeling of displeasure or antagonism",
    "annoyance": "mild anger, irritation",
    "approval": "having or expressing a favorable opinion",
    "caring": "displaying kindness and concern for others",
    "confusion": "lack of understanding, uncertainty",
    "curiosity": "a strong desire to know or learn something",
    "desire": "a strong feeling of wanting something or wishing for something to happen",
    "disappointment": "sadness or displeasure caused by the nonfulfillment of one's hopes or expectations",
    "disapproval": "having or expressing an unfavorable opinion",
    "disgust": "revulsion or strong disapproval aroused by something unpleasant or offensive",
    "embarrassment": "self-consciousness, shame, or awkwardness",
    "excitement": "feeling of great enthusiasm and eagerness",
    "fear": "being afraid or worried",
    "gratitude": "a feeling of thankfulness and appreciation",
    "grief": "intense sorrow, especially caused by someone's death",
    "joy": "a feeling of pleasure and happiness",
    "love": "a strong positive emotion of regard and affection",
    "nervousness": "apprehension, worry, anxiety",
    "optimism": "hopefulness and confidence about the future or the success of something",
    "pride": "pleasure or satisfaction due to one's own achievements or the achievements of those close to oneself",
    "realization": "becoming aware of something",
    "relief": "reassurance and relaxation following release from anxiety or distress",
    "remorse": "regret or guilty feeling",
    "sadness": "emotional pain, sorrow",
    "surprise": "feeling astonished, startled by something unexpected",
    "neutral": "no particular emotion, a plain factual statement",
    "positive": "a pleasant, positive feeling",
    "negative": "an unpleasant, negative feeling",
    "ambiguous": "a mixed or unclear feeling, neither clearly positive nor negative",
    "trust": "firm belief in the reliability, truth or ability of someone or something",
    "anticipation": "looking forward to something, expectation",
    "pessimism": "a tendency to expect the worst, hopelessness about the future",
    "shame": "a painful feeling of humiliation caused by wrong or foolish behavior",
    "guilt": "a feeling of having done wrong or failed in an obligation",
}

GOEMOTIONS = [
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
]


@dataclass(frozen=True)
class LabelSetSpec:
    name: str
    labels: tuple[str, ...]
    multi_label: bool
    description: str

    def prompts(self, templates: tuple[str, ...] = TEMPLATES, members: bool = False) -> dict[str, list[str]]:
        """label -> the texts whose mean embedding is its row: the word in each template and its definition;
        with `members`, a grouped set's label also gets the prompts of the GoEmotions labels it groups
        (a prototype: Ekman "joy" is also approval, gratitude, admiration...)."""
        groups = GOEMOTIONS_GROUPS.get(self.name, {}) if members else {}
        out = {}
        for label in self.labels:
            out[label] = _word_prompts(label, templates)
            for member in groups.get(label, ()):
                if member != label:
                    out[label] += _word_prompts(member, templates)
        return out


def _word_prompts(label: str, templates: tuple[str, ...]) -> list[str]:
    texts = [t.format(label=label) for t in templates]
    if label in DEFINITIONS:
        texts.append(f"{label}: {DEFINITIONS[label]}")
    return texts


LABEL_SETS: dict[str, LabelSetSpec] = {
    s.name: s
    for s in (
        LabelSetSpec(
            "goemotions", tuple(GOEMOTIONS), True, "GoEmotions: 27 emotions + neutral (Demszky et al., 2020)"
        ),
        LabelSetSpec(
            "ekman",
            ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"),
            True,
            "Ekman's six basic emotions + neutral",
        ),
        LabelSetSpec(
            "sentiment", ("positive", "negative", "ambiguous", "neutral"), True, "GoEmotions sentiment groups"
        ),
        LabelSetSpec(
            "plutchik-8",
            ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"),
            True,
            "Plutchik's eight primary emotions",
        ),
        LabelSetSpec(
            "semeval-11",
            (
                "anger",
                "anticipation",
                "disgust",
                "fear",
                "joy",
                "love",
                "optimism",
                "pessimism",
                "sadness",
                "surprise",
                "trust",
            ),
            True,
            "SemEval-2018 Task 1 E-c (11 emotions)",
        ),
        LabelSetSpec(
            "isear-7",
            ("joy", "fear", "anger", "sadness", "disgust", "shame", "guilt"),
            False,
            "ISEAR (7 emotions)",
        ),
        LabelSetSpec(
            "carer-6",
            ("sadness", "joy", "love", "anger", "fear", "surprise"),
            False,
            "CARER / 'emotion' dataset (6)",
        ),
    )
}
DEFAULT_LABEL_SETS = ("goemotions", "ekman", "sentiment", "plutchik-8", "semeval-11", "isear-7", "carer-6")

# The Ekman and sentiment groupings of the GoEmotions labels, as published with the GoEmotions data.
GOEMOTIONS_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "ekman": {
        "anger": ("anger", "annoyance", "disapproval"),
        "disgust": ("disgust",),
        "fear": ("fear", "nervousness"),
        "joy": (
            "joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
            "admiration", "desire", "caring",
        ),
        "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
        "surprise": ("surprise", "realization", "confusion", "curiosity"),
        "neutral": ("neutral",),
    },
    "sentiment": {
        "positive": (
            "amusement", "excitement", "joy", "love", "desire", "optimism", "caring", "pride", "admiration",
            "gratitude", "relief", "approval",
        ),
        "negative": (
            "fear", "nervousness", "remorse", "embarrassment", "disappointment", "sadness", "grief", "disgust",
            "anger", "annoyance", "disapproval",
        ),
        "ambiguous": ("realization", "surprise", "curiosity", "confusion"),
        "neutral": ("neutral",),
    },
}
