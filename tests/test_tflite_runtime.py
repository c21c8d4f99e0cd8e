"""The TFLite backend's runtime paths and the bundle's verify-before-first-use rule, on the shipped bundle.

CompiledModel with an XNNPACK weight cache (one packed copy of the weights for every signature), the cache's
own digest check, and the Interpreter API all give the golden vectors; each file is hashed before its first
use, and only then.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import emolite
from emolite import errors

pytest.importorskip("ai_edge_litert")

TEXTS = ["I can't believe I won the lottery!", "My dog died this morning.", "😭", "ok " * 40]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("EMOLITE_CACHE", str(folder))
    return folder


def cache_files(folder):
    return sorted(p.name for p in (folder / "xnnpack").glob("*.xnnpack"))


def test_weight_cache_is_made_once_then_reused_with_the_same_output(cache):
    first = emolite.load(backend="tflite", threads=1)
    assert first.backend.runtime == "ai-edge-litert" and first.backend.weight_cache is not None
    made = cache_files(cache)
    assert len(made) == 1 and (cache / "xnnpack" / (made[0] + ".sha256")).is_file()
    assert not list((cache / "xnnpack").glob("*.tmp"))  # built under a private name, then renamed
    before = (cache / "xnnpack" / made[0]).read_bytes()
    second = emolite.load(backend="tflite", threads=1)
    assert cache_files(cache) == made and (cache / "xnnpack" / made[0]).read_bytes() == before
    np.testing.assert_allclose(first.embed(TEXTS), second.embed(TEXTS), atol=1e-6)


def test_a_corrupt_weight_cache_is_refused_and_made_again(cache):
    reference = emolite.load(backend="tflite", threads=1).embed(TEXTS)
    path = cache / "xnnpack" / cache_files(cache)[0]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    again = emolite.load(backend="tflite", threads=1)  # the golden check would refuse wrong weights
    np.testing.assert_allclose(again.embed(TEXTS), reference, atol=1e-6)
    assert path.read_bytes() != bytes(data)


def test_without_the_cache_and_through_the_interpreter_api_the_output_is_the_same(cache, monkeypatch):
    reference = emolite.load(backend="tflite", threads=1).embed(TEXTS)
    monkeypatch.setenv("EMOLITE_XNNPACK_CACHE", "0")
    uncached = emolite.load(backend="tflite", threads=1)
    assert uncached.backend.weight_cache is None
    np.testing.assert_allclose(uncached.embed(TEXTS), reference, atol=1e-6)
    monkeypatch.setenv("EMOLITE_TFLITE_RUNTIME", "interpreter")
    interpreter = emolite.load(backend="tflite", threads=1)
    assert type(interpreter.backend.runner).__name__ == "InterpreterRunner"
    np.testing.assert_allclose(interpreter.embed(TEXTS), reference, atol=1e-5)


def test_every_text_runs_in_the_smallest_signature_that_holds_it(default_bundle):
    backend = emolite.load(default_bundle, backend="tflite", threads=1).backend
    buckets = backend.buckets
    assert buckets == sorted(buckets) and buckets[-1] == 128
    for length in range(1, 129):
        chosen = backend.bucket(length)
        assert chosen >= length and all(b < length for b in buckets if b < chosen)


def test_files_are_hashed_before_their_first_use_and_only_then(tmp_path, default_bundle):
    bundle = tmp_path / "bundle"
    shutil.copytree(default_bundle, bundle)
    tflite = bundle / "model.tflite"
    data = bytearray(tflite.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only its sha256 can tell
    tflite.write_bytes(bytes(data))
    clf = emolite.load(bundle, backend="onnx")  # the TFLite model is never read, so never hashed
    assert "model.tflite" not in clf.bundle._proved and "model.onnx" in clf.bundle._proved
    with pytest.raises(errors.BundleIntegrityError, match="sha256"):
        emolite.load(bundle, backend="tflite")
    with pytest.raises(errors.BundleIntegrityError, match="model.tflite"):
        clf.bundle.verify_files()  # `emolite info` checks every file

    labels = bundle / "labels" / "plutchik-8.f32"
    raw = bytearray(labels.read_bytes())
    raw[5] ^= 0x40
    labels.write_bytes(bytes(raw))
    fresh = emolite.load(bundle, backend="onnx")
    assert fresh.predict("what a day", labels="ekman").predicted  # other sets are unaffected
    with pytest.raises(errors.BundleIntegrityError, match="plutchik-8.f32"):
        fresh.predict("what a day", labels="plutchik-8")
