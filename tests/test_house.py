"""The shape of the code: the SDK is the ground floor, imports run downward, each rule is written once,
and the bundle contract is a schema the shipped manifest follows."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import numpy as np
import pytest

from emolite import bundle, catalog, scoring
from emolite.errors import BundleIntegrityError

REPO = Path(__file__).resolve().parents[1]
STAGES = ("distill", "export", "benchmarks")


def imported_modules(folder: str) -> dict[str, set[str]]:
    """file -> absolute names of every module it imports (relative imports resolved)."""
    package = {"sdk": "emolite"}.get(folder, f"emolite.{folder}")
    out = {}
    for path in sorted((REPO / folder).glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
        out[path.name] = names
    return out


def users_of(folder: str, prefix: str) -> dict[str, set[str]]:
    return {
        f: {n for n in names if n == prefix or n.startswith(prefix + ".")}
        for f, names in imported_modules(folder).items()
        if any(n == prefix or n.startswith(prefix + ".") for n in names)
    }


def test_the_sdk_names_no_stage():
    for stage in STAGES:
        assert users_of("sdk", f"emolite.{stage}") == {}
    text = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "sdk").glob("*.py"))
    for stage in STAGES:
        assert f"emolite.{stage}" not in text


def test_distill_never_imports_export():
    assert users_of("distill", "emolite.export") == {}
    assert users_of("distill", "emolite.benchmarks") == {}


def test_export_imports_distill_only_to_load_a_checkpoint():
    used = {name for names in users_of("export", "emolite.distill").values() for name in names}
    assert used <= {"emolite.distill", "emolite.distill.model", "emolite.distill.model.StudentEncoder",
                    "emolite.distill.model.load_tokenizer"}
    assert users_of("export", "emolite.benchmarks") == {}


def test_benchmarks_reach_the_stages_from_one_module():
    files = set(users_of("benchmarks", "emolite.distill")) | set(users_of("benchmarks", "emolite.export"))
    assert files <= {"subjects.py"}


@pytest.mark.parametrize("name", ["sigmoid", "softmax", "probabilities", "decide", "label_row"])
def test_scoring_rules_are_defined_once(name):
    """Only emolite.scoring defines the rule; any other function of that name just calls it."""
    defined = []
    for folder in ("sdk", *STAGES, "android_demo/tools"):
        for path in (REPO / folder).glob("*.py"):
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    body = ast.get_source_segment(source, node) or ""
                    if f"scoring.{name}(" not in body:
                        defined.append(f"{folder}/{path.name}")
    assert defined == ["sdk/scoring.py"]


# -- the scoring rule on constructed inputs -------------------------------------------------------------
def test_probabilities_follow_the_documented_formula():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = rng.normal(size=(3, 8)).astype(np.float32)
    labels /= np.linalg.norm(labels, axis=1, keepdims=True)
    cos = vectors.astype(np.float64) @ labels.T.astype(np.float64)
    multi = scoring.probabilities(vectors, labels, 10.0, -4.0, multi_label=True)
    np.testing.assert_allclose(multi, 1 / (1 + np.exp(-(10 * cos - 4))), rtol=1e-5)
    single = scoring.probabilities(vectors, labels, 10.0, -4.0, multi_label=False)
    np.testing.assert_allclose(single, np.exp(10 * cos) / np.exp(10 * cos).sum(1, keepdims=True), rtol=1e-5)
    assert multi.dtype == np.float32 and single.dtype == np.float32


def test_decide_takes_the_top_label_and_every_label_over_its_threshold():
    probs = np.array([[0.1, 0.6, 0.55, 0.2], [0.05, 0.04, 0.03, 0.02], [0.5, 0.5, 0.1, 0.7]], np.float32)
    thresholds = np.array([0.5, 0.5, 0.55, 0.9], np.float32)
    chosen = scoring.decide(probs, thresholds, multi_label=True)
    assert chosen.tolist() == [
        [False, True, True, False],  # 0.55 >= its threshold 0.55: at the threshold counts
        [True, False, False, False],  # nothing over threshold: still the top label
        [True, True, False, True],  # top label 0.7 under its own threshold is still decided
    ]
    assert scoring.decide(probs, thresholds, multi_label=False).sum(axis=1).tolist() == [1, 1, 1]


def test_ties_go_to_the_first_label_in_both_the_decision_and_the_ranking():
    probs = np.array([[0.3, 0.3, 0.3]], np.float32)
    assert scoring.decide(probs, np.ones(3), True).tolist() == [[True, False, False]]
    assert scoring.ranking(probs[0]).tolist() == [0, 1, 2]


def test_label_row_is_the_normalised_mean():
    row = scoring.label_row(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_allclose(row, [2**-0.5, 2**-0.5], rtol=1e-6)


# -- label-set data -------------------------------------------------------------------------------------
def test_catalog_groupings_equal_the_published_files(shared_data):
    for name, file in (("ekman", "ekman_mapping.json"), ("sentiment", "sentiment_dict.json")):
        published = json.loads((shared_data / "goemotions" / file).read_text())
        ours = {k: sorted(v) for k, v in catalog.GOEMOTIONS_GROUPS[name].items() if k != "neutral"}
        assert ours == {k: sorted(v) for k, v in published.items()}
        members = [m for group in catalog.GOEMOTIONS_GROUPS[name].values() for m in group]
        assert sorted(members) == sorted(catalog.GOEMOTIONS)  # every label in exactly one group


def test_catalog_labels_match_the_data(shared_data):
    assert list(catalog.GOEMOTIONS) == (shared_data / "goemotions" / "emotions.txt").read_text().split()


# -- the bundle contract as a schema --------------------------------------------------------------------
def shipped_manifest(default_bundle) -> dict:
    return json.loads((default_bundle / "manifest.json").read_text(encoding="utf-8"))


def test_shipped_manifest_follows_the_schema(default_bundle):
    bundle.validate_manifest(shipped_manifest(default_bundle))


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.update(format_version=1),
        lambda m: m["scoring"].pop("logit_scale"),
        lambda m: m["scoring"].update(logit_scale=-1.0),
        lambda m: m["label_sets"]["ekman"].update(thresholds=[0.0] * 7),
        lambda m: m["files"].update({"../escape": {"bytes": 1, "sha256": "0" * 64}}),
        lambda m: m["formats"].update(gguf={"file": "x"}),
        lambda m: m["label_sets"]["ekman"].update(labels=["joy", "joy"]),
    ],
    ids=["version", "no-scale", "negative-scale", "zero-thresholds", "path-escape", "unknown-format", "dup-labels"],
)
def test_schema_refuses_broken_manifests(default_bundle, edit):
    manifest = copy.deepcopy(shipped_manifest(default_bundle))
    edit(manifest)
    with pytest.raises(BundleIntegrityError, match="schema"):
        bundle.validate_manifest(manifest)


def test_format_constants_are_the_sdk_s(default_bundle):
    manifest = shipped_manifest(default_bundle)
    assert manifest["format"] == bundle.FORMAT_NAME and manifest["format_version"] == bundle.FORMAT_VERSION
    schema = json.loads(bundle.MANIFEST_SCHEMA.read_text())
    assert schema["properties"]["format_version"]["const"] == bundle.FORMAT_VERSION


def test_write_manifest_round_trips(tmp_path, default_bundle):
    for name in ("tokenizer.json", "vocab.txt"):
        (tmp_path / name).write_bytes((default_bundle / name).read_bytes())
    manifest = {"format": bundle.FORMAT_NAME, "format_version": bundle.FORMAT_VERSION}
    bundle.write_manifest(tmp_path, manifest)
    assert set(manifest["files"]) == {"tokenizer.json", "vocab.txt"}
    raw = (tmp_path / "manifest.json").read_bytes()
    assert bundle.check_manifest_digest(tmp_path, raw) == (tmp_path / "manifest.sha256").read_text().strip()


def test_prior_offsets_divide_a_softmax_by_the_domain_priors():
    domain = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]])
    offsets = scoring.prior_offsets(domain)
    priors = domain.mean(axis=0)
    np.testing.assert_allclose(offsets, -(np.log(priors) - np.log(priors).mean()), rtol=1e-6)
    logits = np.array([[1.0, 0.5, 0.2]])
    corrected = np.exp(logits + offsets)
    corrected /= corrected.sum()
    plain = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(corrected, (plain / priors) / (plain / priors).sum(), rtol=1e-5)
    assert np.all(scoring.prior_offsets(domain, strength=0.0) == 0)


def test_domain_texts_are_texts_only(shared_data):
    from emolite import datasets

    carer = datasets.domain_texts("carer-6", shared_data, n=50)
    semeval = datasets.domain_texts("semeval-ec-11", shared_data, n=50)
    assert len(carer) == 50 and len(semeval) == 50
    labels = {"sadness", "joy", "love", "anger", "fear", "surprise"}
    assert not any(t.rsplit(";", 1)[-1] in labels for t in carer) and not any("\t" in t for t in semeval)
    assert datasets.domain_texts("goemotions-28", shared_data) is None
