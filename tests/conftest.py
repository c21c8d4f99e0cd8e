"""Shared fixtures: the real shipped bundle, the real base encoder, the real data beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (see its README). CI places it beside the clone; a missing folder is a setup error."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the tests need ../shared/data beside the repository")
    return SHARED_DATA


@pytest.fixture(scope="session")
def default_bundle() -> Path:
    from emolite.bundle import DEFAULT_BUNDLE

    return DEFAULT_BUNDLE


@pytest.fixture(scope="session")
def clf():
    """The classifier on the shipped default bundle, loaded once per session (it is thread-safe and stateless)."""
    import emolite

    return emolite.load(backend="onnx")


@pytest.fixture(scope="session")
def base_bundle(tmp_path_factory) -> Path:
    """A bundle exported by the real export code from the real base encoder, once per session.

    Both formats (int8 ONNX and int8 TFLite with four of the default's signature lengths, to keep the
    conversion short), gated on the probe set and 1000 GoEmotions dev texts.
    """
    from emolite.export.bundle_writer import export_bundle

    return export_bundle(
        "base", tmp_path_factory.mktemp("bundles") / "base", formats=("onnx", "tflite"), gate_texts=1000,
        buckets=(16, 32, 64, 128),
    )
