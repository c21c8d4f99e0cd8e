"""Generate the Android core module's golden data from the Python SDK (the reference the Java code must equal).

Writes, under android_demo/core/src:
  test/resources/golden/tokens.json      token ids of >= 300 tricky strings, from the SDK's TextEncoder
  test/resources/golden/codepoints.json  per-block hashes of the normaliser / pre-tokeniser over every code point
  test/resources/golden/scoring.json     probabilities and decisions for given embeddings, by `emolite.scoring`
                                         (also for label sets given their own logit_scale / logit_bias)
  test/resources/golden/emoji.json       emoji table applied to a few hundred texts, and their token ids
  main/java/org/emolite/core/BertUnicodeData.java  the character classes of `tokenizers`, read off it by probing

Nothing here hard-codes the bundle: every number comes from the bundle (default: the SDK's shipped one) and the
SDK. Run with the project venv:  .venv/bin/python android_demo/tools/make_golden.py  (or `make -C android_demo
golden`); `--check` exits 1 when the committed files differ from what the SDK produces now.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import logging
import math
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

logger = logging.getLogger("make_golden")

ANDROID = Path(__file__).resolve().parents[1]
GOLDEN_DIR = ANDROID / "core" / "src" / "test" / "resources" / "golden"
JAVA_TABLES = ANDROID / "core" / "src" / "main" / "java" / "org" / "emolite" / "core" / "BertUnicodeData.java"
SEED = 20261124
MAX_CP = 0x110000
BLOCK = 4096  # code points per hash block in codepoints.json
AMBIGUOUS = (
    2e-5  # probability margins below this are left out: float32 vs float64 may decide them differently
)


# -- helpers ---------------------------------------------------------------------------------------
def code_points() -> Iterable[int]:
    """Every Unicode scalar value (surrogates cannot be in a Python str given to `tokenizers`)."""
    return (cp for cp in range(MAX_CP) if not 0xD800 <= cp <= 0xDFFF)


def ranges(cps: Iterable[int]) -> str:
    """'300-36f,483,...': sorted code points as hex ranges."""
    out: list[str] = []
    start = prev = None
    for cp in sorted(cps):
        if prev is not None and cp == prev + 1:
            prev = cp
            continue
        if start is not None:
            out.append(f"{start:x}" if start == prev else f"{start:x}-{prev:x}")
        start = prev = cp
    if start is not None:
        out.append(f"{start:x}" if start == prev else f"{start:x}-{prev:x}")
    return ",".join(out)


def hex_cps(text: str) -> str:
    return ".".join(f"{ord(c):x}" for c in text)


def f32_b64(vector: np.ndarray) -> str:
    """Little-endian float32 bytes, base64: exact and a quarter of the size of decimal JSON."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump_json(data: object) -> str:
    """JSON with one case per line (diffable, compact); ASCII, so lone surrogates and controls survive."""
    return _dump(data, 0) + "\n"


def _dump(value: object, depth: int) -> str:
    pad = " " * (depth + 1)
    if isinstance(value, dict) and value:
        body = f",\n{pad}".join(f"{json.dumps(k)}: {_dump(v, depth + 1)}" for k, v in value.items())
        return "{\n" + pad + body + "\n" + " " * depth + "}"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        body = f",\n{pad}".join(json.dumps(v, ensure_ascii=True) for v in value)
        return "[\n" + pad + body + "\n" + " " * depth + "]"
    return json.dumps(value, ensure_ascii=True)


# -- unicode tables --------------------------------------------------------------------------------
def _probe(fn: Callable[[str], str], keep: Callable[[int, str], bool]) -> list[int]:
    return [cp for cp in code_points() if keep(cp, fn(chr(cp)))]


def unicode_tables() -> dict[str, str]:
    """Character classes of the installed `tokenizers`, probed one normaliser step at a time."""
    from tokenizers import normalizers, pre_tokenizers

    def step(**flags: bool) -> Callable[[str], str]:
        args = {
            "clean_text": False,
            "handle_chinese_chars": False,
            "strip_accents": False,
            "lowercase": False,
        }
        return normalizers.BertNormalizer(**{**args, **flags}).normalize_str

    pre = pre_tokenizers.BertPreTokenizer()

    def pre_class(cp: int) -> str:
        words = [w for w, _ in pre.pre_tokenize_str("a" + chr(cp) + "b")]
        return "W" if words == ["a", "b"] else "P" if words == ["a", chr(cp), "b"] else ""

    lower = step(lowercase=True)
    classes = {cp: pre_class(cp) for cp in code_points()}
    lower_map = {cp: lower(chr(cp)) for cp in code_points()}
    return {
        "CONTROL": ranges(_probe(step(clean_text=True), lambda cp, out: out == "")),
        "WHITESPACE": ranges(cp for cp, c in classes.items() if c == "W"),
        "PUNCTUATION": ranges(cp for cp, c in classes.items() if c == "P"),
        "CHINESE": ranges(_probe(step(handle_chinese_chars=True), lambda cp, out: out == f" {chr(cp)} ")),
        "NONSPACING_MARK": ranges(_probe(step(strip_accents=True), lambda cp, out: out == "")),
        # decomposable for Python's (and the JDK's) Unicode tables but not for the crate's: kept whole
        "KEEP_COMPOSED": ranges(
            _probe(
                step(strip_accents=True), lambda cp, out: out == chr(cp) != unicodedata.normalize("NFD", out)
            )
        ),
        "LOWERCASE": ",".join(f"{cp:x}:{hex_cps(out)}" for cp, out in lower_map.items() if out != chr(cp)),
    }


def java_tables(tables: dict[str, str]) -> str:
    import tokenizers

    def literal(text: str) -> str:
        parts = [text[i : i + 100] for i in range(0, len(text), 100)] or [""]
        return "\n            + ".join(f'"{p}"' for p in parts)

    fields = "\n".join(
        f"    static final String {k} =\n            {literal(v)};\n" for k, v in tables.items()
    )
    return (
        "package org.emolite.core;\n\n"
        f"// GENERATED by android_demo/tools/make_golden.py from tokenizers {tokenizers.__version__}: do not edit.\n"
        "/** Character classes of the Python SDK's `tokenizers`, probed over every code point (hex ranges). */\n"
        "final class BertUnicodeData {\n"
        "    private BertUnicodeData() {}\n\n"
        f"{fields}"
        "}\n"
    )


# -- token ids -------------------------------------------------------------------------------------
def tricky_strings() -> list[str]:
    """Hand-picked hard cases plus seeded random mixes of hard characters."""
    from tricky_strings import hand_picked, random_mixes

    cases = hand_picked()
    cases += random_mixes(np.random.default_rng(SEED), 160)
    seen: set[str] = set()
    return [c for c in cases if not (c in seen or seen.add(c))]


def _text_files(bundle) -> list[str]:
    """The bundle files its text pipeline reads: tokenizer.json, vocab.txt and the emoji table when it has one."""
    tok = bundle.manifest["tokenizer"]
    emoji_file = (bundle.manifest.get("preprocessing") or {}).get("emoji_names")
    return [tok["file"], tok["vocab"]] + ([emoji_file] if emoji_file else [])


def token_golden(bundle_dir: Path) -> dict:
    """Token ids by the bundle's own text pipeline (`Bundle.text_encoder()`: with its emoji table if it has one)."""
    from emolite.bundle import Bundle

    bundle = Bundle.open(bundle_dir)
    encoder = bundle.text_encoder()
    texts = tricky_strings()
    ids, truncated = encoder.encode(texts)
    cases = [
        {"text": t, "ids": i, "truncated": tr, "blank": not t.strip()}
        for t, i, tr in zip(texts, ids, truncated)
    ]
    return {"source": _source(bundle, _text_files(bundle), text=True), "cases": cases}


def _source(bundle, files: list[str], text: bool = False) -> dict:
    """Which bundle files the golden data depends on, so a stale golden file says so; for text-pipeline data also
    the manifest's `preprocessing` (null: none), so ids made without the emoji table are stale once it is added."""
    import tokenizers

    import emolite

    source = {"bundle": bundle.manifest["name"], "files": {f: bundle.manifest["files"][f]["sha256"] for f in files}}
    if text:
        source["preprocessing"] = bundle.manifest.get("preprocessing")
    return {
        **source,
        "emolite": emolite.__version__,
        "tokenizers": tokenizers.__version__,
        "regenerate": ".venv/bin/python android_demo/tools/make_golden.py",
    }


# -- emoji names -------------------------------------------------------------------------------------
def emoji_golden(bundle_dir: Path) -> dict:
    """The emoji table applied to a few hundred texts (`EmojiNames.apply`) and their token ids through the SDK's
    TextEncoder with that table: the bundle's own pipeline when the bundle has the table, else the SDK's table
    (`emolite.emoji.default_names()`, the file the export copies into bundles) with the bundle's tokenizer."""
    from tricky_strings import emoji_strings

    from emolite import emoji
    from emolite.bundle import Bundle
    from emolite.text import TextEncoder

    bundle = Bundle.open(bundle_dir)
    emoji_file = (bundle.manifest.get("preprocessing") or {}).get("emoji_names")
    if emoji_file:
        table_path, encoder = bundle.file(emoji_file), bundle.text_encoder()
        table = encoder.emoji
    else:
        tok = bundle.manifest["tokenizer"]
        table_path, table = emoji.TABLE_FILE, emoji.default_names()
        encoder = TextEncoder(
            bundle.file(tok["file"]), bundle.max_seq_length, tok.get("pad_id", 0),
            tok.get("max_input_chars_per_word", 100), emoji=table,
        )
    # what the Java test asserts for every key, proved on the SDK first
    for key, name in table.names.items():
        if table.apply(key) != f" {name} " or table.apply(f"a{key}z") != f"a {name} z":
            raise SystemExit(f"the SDK's table does not map {key!r} to ' {name} ': update make_golden.py")
    texts = emoji_strings(table.names, np.random.default_rng(SEED), encoder.max_chars)
    for t in texts:  # Java reads the texts from JSON: they must mean the same there (surrogates stay as they are)
        if json.loads(json.dumps(t)) != t:
            raise SystemExit(f"{t!r} does not survive JSON: drop it from emoji_strings")
    ids, truncated = encoder.encode(texts)
    cases = []
    for t, i, tr in zip(texts, ids, truncated):
        case = {"text": t, "mapped": table.apply(t), "ids": i, "truncated": tr}
        if len(t) > encoder.max_chars:  # the SDK cuts first, then maps: what the tokenizer proper sees
            case["preprocessed"] = table.apply(t[: encoder.max_chars])
        cases.append(case)
    return {
        "source": _source(bundle, _text_files(bundle), text=True),
        "table": {
            "path": emoji_file or "sdk/emoji_names.json",  # in the bundle, else the SDK's copy (repo path)
            "sha256": sha256_file(table_path),
            "keys": len(table.names),
        },
        "max_input_chars": encoder.max_chars,
        "cases": cases,
    }


def codepoint_golden(bundle_dir: Path) -> dict:
    """Hash of the bundle normaliser's output and the pre-tokeniser class of every code point, per block."""
    from tokenizers import Tokenizer, pre_tokenizers

    from emolite.bundle import Bundle

    bundle = Bundle.open(bundle_dir)
    tok = bundle.manifest["tokenizer"]
    normalize = Tokenizer.from_file(str(bundle.file(tok["file"]))).normalizer.normalize_str
    pre = pre_tokenizers.BertPreTokenizer()
    blocks: dict[int, hashlib._Hash] = {}
    for cp in code_points():
        words = [w for w, _ in pre.pre_tokenize_str("a" + chr(cp) + "b")]
        cls = "W" if words == ["a", "b"] else "P" if words == ["a", chr(cp), "b"] else "-"
        line = f"{cp:x}:{hex_cps(normalize(chr(cp)))}:{cls}\n"
        blocks.setdefault(cp // BLOCK, hashlib.sha256()).update(line.encode("ascii"))
    return {
        "source": _source(bundle, [tok["file"]]),
        "block_size": BLOCK,
        "line_format": "hex(cp) ':' normalised code points as hex joined by '.' ':' W|P|- (pre-tokeniser class)",
        "blocks": {f"{b:x}": h.hexdigest()[:16] for b, h in sorted(blocks.items())},
    }


# -- scoring ---------------------------------------------------------------------------------------
def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def given_vectors(clf, rng: np.random.Generator, n_synthetic: int) -> dict[str, np.ndarray]:
    """The bundle's golden embeddings (real texts) plus seeded mixtures of label rows and noise."""
    golden = clf.bundle.manifest["golden"]["embeddings"]["onnx"]
    vectors = {f"golden{i}": np.asarray(v, dtype=np.float32) for i, v in enumerate(golden)}
    rows = np.concatenate([clf.bundle.label_set(n).embeddings for n in clf.label_sets()])
    dim = rows.shape[1]
    for i in range(n_synthetic):
        kind = i % 4
        a, b = rows[rng.integers(len(rows))], rows[rng.integers(len(rows))]
        noise = rng.standard_normal(dim).astype(np.float32) / np.sqrt(dim)
        mix = {0: a + 0.3 * noise, 1: a + b + 0.5 * noise, 2: noise, 3: a + 0.8 * b + 1.5 * noise}[kind]
        vectors[f"synthetic{i}"] = _unit(mix)
    return vectors


def _scoring_fields(label_set) -> dict:
    """A set's labels, thresholds and own calibration (null: the bundle's), as the SDK read them (float32)."""
    bias = label_set.logit_bias
    return {
        "labels": list(label_set.labels),
        "multi_label": label_set.multi_label,
        "thresholds": [float(t) for t in label_set.thresholds],
        "logit_scale": label_set.logit_scale,
        "logit_bias": None if bias is None else [float(b) for b in bias],
    }


def _calibration(clf, label_set) -> tuple[float, float | np.ndarray]:
    """The set's own logit_scale / logit_bias when it has them, else the bundle's (docs/bundle-format.md)."""
    scale = clf.logit_scale if label_set.logit_scale is None else label_set.logit_scale
    bias = clf.logit_bias if label_set.logit_bias is None else label_set.logit_bias
    return scale, bias


def _case(clf, name: str, vector: np.ndarray, label_set, multi: bool) -> dict | None:
    """One golden case, scored by the SDK's one scoring rule (`emolite.scoring`)."""
    from emolite import scoring

    probs = scoring.probabilities(vector[None, :], label_set.embeddings, *_calibration(clf, label_set), multi)[0]
    chosen = scoring.decide(probs, label_set.thresholds, multi)[0]
    order = scoring.ranking(probs)
    if _ambiguous(probs, label_set.thresholds if multi else None):
        return None
    return {
        "vector": name,
        "label_set": label_set.name,
        "multi_label": multi,
        "scores": [round(float(p), 9) for p in probs],  # in the label set's row order
        "order": [int(i) for i in order],
        "predicted": [label_set.labels[i] for i in order if chosen[i]],
    }


def _ambiguous(probs: np.ndarray, thresholds: np.ndarray | None) -> bool:
    top2 = np.sort(probs)[-2:] if len(probs) > 1 else np.array([0.0, 1.0])
    near_threshold = thresholds is not None and bool(np.any(np.abs(probs - thresholds) < AMBIGUOUS))
    return near_threshold or bool(top2[1] - top2[0] < AMBIGUOUS)


def check_classifier_uses_scoring(
    clf, words=("nostalgia", "relief", "dread"), texts=("I miss those days", "phew")
) -> None:
    """The golden data comes from `emolite.scoring`; prove, through the Classifier's public API, that the SDK
    classifies by the same rule (custom label rows, probabilities, decisions and order) before relying on it."""
    from emolite import scoring

    vectors = clf.embed(list(texts))
    rows = np.stack([scoring.label_row(clf.embed([t.format(label=w) for t in clf.templates])) for w in words])
    for multi in (False, True):
        want = scoring.probabilities(vectors, rows, clf.logit_scale, clf.logit_bias, multi)
        if not np.allclose(clf.scores(list(texts), labels=list(words), multi_label=multi), want, atol=1e-6):
            raise SystemExit(
                "Classifier.scores no longer follows emolite.scoring for custom labels: update make_golden.py"
            )
    label_set = clf.bundle.label_set(clf.bundle.default_label_set)
    probs = scoring.probabilities(vectors, label_set.embeddings, *_calibration(clf, label_set), label_set.multi_label)
    chosen = scoring.decide(probs, label_set.thresholds, label_set.multi_label)
    for pred, p, c in zip(clf.predict(list(texts)), probs, chosen):
        order = scoring.ranking(p)
        if pred.labels != [label_set.labels[i] for i in order] or pred.predicted != [
            label_set.labels[i] for i in order if c[i]
        ]:
            raise SystemExit("Classifier.predict no longer follows emolite.scoring: update make_golden.py")


def custom_golden(clf, vectors: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    from emolite import scoring
    from emolite.bundle import LabelSet

    words = ["Nostalgia", "relieved", "Schadenfreude", "ennui", "hopeful"]
    dim = clf.bundle.dim
    per_word = {w: np.stack([_unit(rng.standard_normal(dim)) for _ in clf.templates]) for w in words}
    rows = {w: scoring.label_row(v) for w, v in per_word.items()}
    label_set = LabelSet(
        name="",
        labels=tuple(words),
        prompts={w: [t.format(label=w) for t in clf.templates] for w in words},
        multi_label=False,
        thresholds=np.full(len(words), clf.default_threshold, dtype=np.float32),
        embeddings=np.stack([rows[w] for w in words]),
    )
    # text vectors near the custom rows, so the decisions are not all ties
    texts = {
        f"custom{i}": _unit(rows[words[i % len(words)]] + 0.4 * _unit(rng.standard_normal(dim)))
        for i in range(8)
    }
    vectors.update(texts)
    cases = [c for name in texts for m in (False, True) if (c := _case(clf, name, texts[name], label_set, m))]
    return {
        "words": words,
        "templates": [t.format(label="{label}") for t in clf.templates],
        "template_vectors": {w: [f32_b64(v) for v in per_word[w]] for w in words},
        "rows": {w: f32_b64(rows[w]) for w in words},
        "default_threshold": clf.default_threshold,
        "cases": cases,
    }


def calibrated_golden(clf, vectors: dict[str, np.ndarray], rng: np.random.Generator) -> dict:
    """Label sets of the bundle given their own logit_scale and one logit_bias per label (seeded; the Java test
    writes them into a re-sealed copy of the bundle), scored by `emolite.scoring` with the array bias. The
    Classifier is first shown to score such a set by the same rule."""
    from dataclasses import replace

    from emolite import scoring

    names = clf.label_sets()
    sizes = {n: len(clf.bundle.label_set(n).labels) for n in names}
    # the default set, the largest and the smallest (distinct, in the bundle's order)
    picked = {clf.bundle.default_label_set, max(names, key=sizes.get), min(names, key=sizes.get)}
    sets = {}
    for name in [n for n in names if n in picked]:
        base = clf.bundle.label_set(name)
        scale = round(float(clf.logit_scale) * float(rng.uniform(0.5, 1.5)), 6)
        # around the bundle's bias, as a fitted calibration is (centred on 0 the sigmoids saturate into near-ties)
        bias = np.round(float(clf.logit_bias) + rng.normal(0.0, 1.5, size=len(base.labels)), 6).astype(np.float32)
        sets[name] = replace(base, logit_scale=scale, logit_bias=bias)
    stacked = np.stack(list(vectors.values()))
    for label_set in sets.values():
        for multi in (False, True):
            want = scoring.probabilities(stacked, label_set.embeddings, label_set.logit_scale, label_set.logit_bias, multi)
            if not np.allclose(clf._probabilities(stacked, label_set, multi), want, atol=1e-6):
                raise SystemExit("Classifier no longer scores a set by its own logit_scale/logit_bias: update make_golden.py")
    cases = [
        c
        for name, vector in vectors.items()
        for label_set in sets.values()
        for m in (True, False)
        if (c := _case(clf, name, vector, label_set, m))
    ]
    return {
        "sets": {
            n: {"logit_scale": s.logit_scale, "logit_bias": [float(b) for b in s.logit_bias]} for n, s in sets.items()
        },
        "cases": cases,
    }


def scoring_golden(clf) -> dict:
    rng = np.random.default_rng(SEED)
    check_classifier_uses_scoring(clf)
    vectors = given_vectors(clf, rng, 16)
    cases = []
    for name, vector in list(vectors.items()):
        for set_name in clf.label_sets():
            label_set = clf.bundle.label_set(set_name)
            cases += [c for m in (True, False) if (c := _case(clf, name, vector, label_set, m))]
    custom = custom_golden(clf, vectors, rng)
    calibrated = calibrated_golden(clf, {k: v for k, v in vectors.items() if not k.startswith("custom")}, rng)
    files = [m["file"] for m in clf.bundle.manifest["label_sets"].values()]
    return {
        "source": _source(clf.bundle, files),
        "logit_scale": clf.logit_scale,
        "logit_bias": clf.logit_bias,
        # what the manifest says of each set beyond its .f32 file: a change makes the cases below stale
        "label_sets": {n: _scoring_fields(clf.bundle.label_set(n)) for n in clf.label_sets()},
        "tolerance": 1e-5,
        "vectors": {k: f32_b64(v) for k, v in vectors.items()},
        "cases": cases,
        "custom": custom,
        "calibrated": calibrated,
    }


# -- comparing with the committed files -----------------------------------------------------------
def f32_vector(text: str) -> np.ndarray | None:
    """The float32 vector a golden file stores as base64 (f32_b64), or None if `text` is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return np.frombuffer(raw, dtype="<f4") if raw and len(raw) % 4 == 0 else None


def drift(committed: object, fresh: object, where: str = "") -> list[str]:
    """Differences between two JSON values; floats, also inside base64 float32 vectors, may differ by 1e-6."""
    if isinstance(committed, dict) and isinstance(fresh, dict):
        if committed.keys() != fresh.keys():
            return [f"{where}: keys {sorted(committed)} != {sorted(fresh)}"]
        return [d for k in committed for d in drift(committed[k], fresh[k], f"{where}.{k}")]
    if isinstance(committed, list) and isinstance(fresh, list):
        if len(committed) != len(fresh):
            return [f"{where}: {len(committed)} items != {len(fresh)}"]
        return [d for i, (a, b) in enumerate(zip(committed, fresh)) for d in drift(a, b, f"{where}[{i}]")]
    if isinstance(committed, float) or isinstance(fresh, float):
        ok = isinstance(committed, (int, float)) and isinstance(fresh, (int, float))
        return (
            []
            if ok and math.isclose(committed, fresh, abs_tol=1e-6)
            else [f"{where}: {committed!r} != {fresh!r}"]
        )
    if isinstance(committed, str) and isinstance(fresh, str) and committed != fresh:
        a, b = f32_vector(committed), f32_vector(fresh)
        if a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-6):
            return []
    return [] if committed == fresh else [f"{where}: {committed!r:.80} != {fresh!r:.80}"]


# -- entry points ----------------------------------------------------------------------------------
def generate(bundle_dir: Path | None = None, clf=None) -> dict[Path, str]:
    """Every generated file's path and text (nothing written)."""
    import emolite
    from emolite.bundle import DEFAULT_BUNDLE

    bundle_dir = Path(bundle_dir or DEFAULT_BUNDLE)
    clf = clf or emolite.load(bundle_dir, backend="onnx")
    return {
        JAVA_TABLES: java_tables(unicode_tables()),
        GOLDEN_DIR / "tokens.json": dump_json(token_golden(bundle_dir)),
        GOLDEN_DIR / "codepoints.json": dump_json(codepoint_golden(bundle_dir)),
        GOLDEN_DIR / "scoring.json": dump_json(scoring_golden(clf)),
        GOLDEN_DIR / "emoji.json": dump_json(emoji_golden(bundle_dir)),
    }


def differences(path: Path, committed: str, fresh: str) -> list[str]:
    """What differs between a committed golden file and a fresh one beyond the machine's float noise."""
    if path.suffix == ".json":
        return drift(json.loads(committed), json.loads(fresh))
    return [] if committed == fresh else ["text differs"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bundle", type=Path, default=None, help="bundle directory (default: the SDK's shipped one)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed files differ; write nothing"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stale = []
    for path, text in generate(args.bundle).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text or (current is not None and args.check and not differences(path, current, text)):
            logger.info("unchanged %s", path.relative_to(ANDROID))
        elif args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            logger.info("wrote %s (%d bytes)", path.relative_to(ANDROID), len(text))
    for path in stale:
        logger.error("stale: %s; regenerate with .venv/bin/python android_demo/tools/make_golden.py", path)
    return 1 if stale else 0


sys.path.insert(0, str(Path(__file__).resolve().parent))  # tricky_strings.py beside this file

if __name__ == "__main__":
    sys.exit(main())
