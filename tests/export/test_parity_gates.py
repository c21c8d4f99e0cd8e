"""The parity gates' judgement on constructed embeddings and figures: no model, exact inputs, clear of the bars.

Every cosine below is built exactly (a unit vector turned by a known angle), and every F1 drop comes from
a known number of wrong decisions, so no figure sits on a bar by accident of float noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import f1_score

from emolite import scoring
from emolite.export import parity

LABELS = ["anger", "joy", "fear", "sadness"]
DIM = 8
N_DEV = 400
N_PROBE = 100


def _rule(multi_label: bool = True) -> parity.Scoring:
    """Label rows are the first basis vectors: a text equal to row j is decided as label j alone."""
    rows = np.eye(len(LABELS), DIM)
    return parity.Scoring(LABELS, rows, np.full(len(LABELS), 0.9), multi_label, scale=20.0, bias=-7.0)


def _turned(vectors: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    """Each unit row turned away from itself to exactly the given cosine (towards a perpendicular unit)."""
    rng = np.random.default_rng(1)
    other = rng.normal(size=vectors.shape)
    other -= np.sum(other * vectors, axis=1, keepdims=True) * vectors
    other /= np.linalg.norm(other, axis=1, keepdims=True)
    c = np.asarray(cosines, dtype=np.float64)[:, None]
    return c * vectors + np.sqrt(1 - c**2) * other


@pytest.fixture(scope="module")
def ref() -> parity.Reference:
    rng = np.random.default_rng(0)
    probe = rng.normal(size=(N_PROBE, DIM))
    probe /= np.linalg.norm(probe, axis=1, keepdims=True)
    gold_index = np.arange(N_DEV) % len(LABELS)
    rows = _rule().embeddings
    gold = parity.multi_hot([[LABELS[j]] for j in gold_index], LABELS)
    return parity.Reference(probe=probe, dev=rows[gold_index], gold=gold, label_embeddings=rows)


def _dev_with_wrong(ref: parity.Reference, wrong: int) -> np.ndarray:
    """The fp32 dev vectors with the first `wrong` texts moved onto the next label's row."""
    dev = ref.dev.copy()
    for i in range(wrong):
        j = int(np.argmax(ref.dev[i]))
        dev[i] = ref.label_embeddings[(j + 1) % len(LABELS)]
    return dev


def test_int8_equal_to_fp32_passes_every_gate(ref):
    result = parity.judge_format(
        ref, ref.probe.copy(), ref.dev.copy(), _rule(), int8_label_rows=_rule().embeddings
    )
    assert result["cosine"] == {"mean": 1.0, "min": 1.0, "pass": True}
    assert result["zero_shot"] == {
        "macro_f1_fp32": 1.0,
        "macro_f1_int8": 1.0,
        "delta": 0.0,
        "macro_f1_int8_with_int8_label_embeddings": 1.0,
        "pass": True,
    }
    assert result["probe_top_label_agreement"] == 1.0


@pytest.mark.parametrize(
    ("cosine", "mean_passes"),
    [(0.9901, True), (0.9899, False)],
)
def test_cosine_mean_just_above_and_below_its_bar(ref, cosine, mean_passes):
    probe = _turned(ref.probe, np.full(N_PROBE, cosine))
    result = parity.judge_format(ref, probe, ref.dev.copy(), _rule())
    assert result["cosine"]["mean"] == pytest.approx(cosine, abs=1e-5)
    assert result["cosine"]["min"] >= parity.COSINE_MIN_MIN  # only the mean is at stake here
    assert result["cosine"]["pass"] is mean_passes
    assert result["zero_shot"]["pass"] is True  # the gates are independent


@pytest.mark.parametrize(
    ("worst", "min_passes"),
    [(0.9501, True), (0.9499, False)],
)
def test_cosine_min_just_above_and_below_its_bar(ref, worst, min_passes):
    cosines = np.ones(N_PROBE)
    cosines[17] = worst
    result = parity.judge_format(ref, _turned(ref.probe, cosines), ref.dev.copy(), _rule())
    assert result["cosine"]["min"] == pytest.approx(worst, abs=1e-5)
    assert result["cosine"]["mean"] >= parity.COSINE_MEAN_MIN  # only the min is at stake here
    assert result["cosine"]["pass"] is min_passes


@pytest.mark.parametrize("multi_label", [True, False])
def test_f1_within_the_allowed_drop_passes_and_beyond_it_fails(ref, multi_label):
    rule = _rule(multi_label)
    small = parity.judge_format(ref, ref.probe, _dev_with_wrong(ref, 1), rule)["zero_shot"]
    large = parity.judge_format(ref, ref.probe, _dev_with_wrong(ref, 12), rule)["zero_shot"]
    assert small["macro_f1_fp32"] == large["macro_f1_fp32"] == 1.0
    assert -parity.F1_MAX_DROP < small["delta"] < 0 and small["pass"] is True
    assert large["delta"] < -parity.F1_MAX_DROP and large["pass"] is False
    # the figure is macro-F1 over the decisions the SDK's rule makes on those vectors
    pred = scoring.decide(
        scoring.probabilities(_dev_with_wrong(ref, 12), rule.embeddings, 20.0, -7.0, multi_label),
        rule.thresholds,
        multi_label,
    )
    assert large["macro_f1_int8"] == round(f1_score(ref.gold, pred, average="macro", zero_division=0), 4)


def test_f1_gate_is_symmetric_and_judged_on_the_reported_delta():
    assert parity.f1_pass(round(0.6 - 0.59, parity.F1_DIGITS))  # 0.01000000000000001 unrounded
    assert parity.f1_pass(0.0099) and parity.f1_pass(-0.0099)
    assert not parity.f1_pass(0.0101) and not parity.f1_pass(-0.0101)


def test_gate_rule_decides_as_the_sdk_does(ref):
    """Scoring is a holder: its decisions are emolite.scoring's for the same rows, thresholds, scale, bias."""
    rule = _rule()
    vectors = _turned(ref.probe, np.full(N_PROBE, 0.9))
    expected = scoring.decide(
        scoring.probabilities(vectors, rule.embeddings, rule.scale, rule.bias, True), rule.thresholds, True
    )
    np.testing.assert_array_equal(rule.decisions(vectors), expected)


def test_macro_f1_counts_every_label_column_once():
    gold = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=bool)
    pred = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=bool)
    # label 0: tp 1, fp 1 -> 2/3; label 1: tp 1, fn 1 -> 2/3; label 2: absent everywhere -> 0
    assert parity.macro_f1(pred, gold) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_teacher_labels_outside_the_set_are_ignored():
    hot = parity.multi_hot([["joy", " anger"], ["joy", "smugness"], []], LABELS)
    assert hot.tolist() == [[True, True, False, False], [False, True, False, False], [False] * 4]


def test_tokenizer_figures_name_the_first_mismatch():
    texts = ["same", "differs", "also differs"]
    result = parity.tokenizer_figures(
        [[101, 1, 102], [101, 2, 102], [101, 3]], [[101, 1, 102], [101, 9, 102], [101]], texts
    )
    assert result == {"texts": 3, "mismatches": 2, "first_mismatch": "differs", "pass": False}
    same = parity.tokenizer_figures([[101, 1, 102]], [np.array([101, 1, 102])], ["same"])
    assert same["pass"] is True and same["mismatches"] == 0
    with pytest.raises(ValueError, match="id lists"):
        parity.tokenizer_figures([[1]], [], ["a"])


def _report(flags: tuple[bool, ...]) -> dict:
    onnx_cos, onnx_f1, tflite_cos, tflite_f1, tokenizer = flags
    return {
        "formats": {
            "onnx": {"cosine": {"pass": onnx_cos}, "zero_shot": {"pass": onnx_f1}},
            "tflite": {"cosine": {"pass": tflite_cos}, "zero_shot": {"pass": tflite_f1}},
        },
        "tokenizer": {"pass": tokenizer},
    }


@pytest.mark.parametrize("flags", list(itertools.product([True, False], repeat=5)))
def test_overall_verdict_is_the_conjunction_of_every_gate(flags):
    assert parity.overall_pass(_report(flags)) is all(flags)


def test_a_report_without_formats_does_not_pass():
    assert parity.overall_pass({"formats": {}, "tokenizer": {"pass": True}}) is False
