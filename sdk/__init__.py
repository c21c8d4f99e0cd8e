"""emolite: on-device zero-shot text emotion recognition.

    import emolite
    clf = emolite.load()
    clf.predict("I can't believe I won!").predicted
"""

from __future__ import annotations

import os

from . import registry
from .backends import create_backend
from .bundle import Bundle, LabelSet
from .classifier import Classifier, Prediction
from .errors import (
    BackendUnavailableError,
    BundleError,
    BundleIntegrityError,
    BundleNotFoundError,
    EmoliteError,
    InputTypeError,
    InvalidInputError,
    RuntimeVerificationError,
    UnknownLabelSetError,
    UnsupportedBundleVersionError,
)
from .text import check_positive_int

__version__ = "0.1.0"

__all__ = [
    "load",
    "label_sets",
    "models",
    "Classifier",
    "Prediction",
    "Bundle",
    "LabelSet",
    "EmoliteError",
    "InvalidInputError",
    "InputTypeError",
    "UnknownLabelSetError",
    "BundleError",
    "BundleNotFoundError",
    "BundleIntegrityError",
    "UnsupportedBundleVersionError",
    "BackendUnavailableError",
    "RuntimeVerificationError",
    "__version__",
]


def load(
    path: str | os.PathLike | None = None,
    backend: str = "auto",
    threads: int | None = None,
    batch_size: int | None = None,
) -> Classifier:
    """Open and verify a bundle (the shipped default when `path` is None) and return its classifier.

    Args:
        path: bundle directory or archive (.zip, .tar.gz), or the name of an installed model package
            ("default", "minilm-l3"; see `emolite.models()` and `emolite.registry.resolve` for the rule).
        backend: "onnx", "tflite" (needs ai-edge-litert) or "auto".
        threads: intra-op threads for the runtime; None lets the runtime choose.
        batch_size: texts per inference call, in length-sorted chunks padded per chunk. None: 32 when the
            backend's output is batch-invariant, else 1 (dynamic int8 ONNX: a text's activations are
            quantised with its batch-mates', so batching would make its scores depend on them).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    threads = check_positive_int("threads", threads)
    bundle = Bundle.open(registry.resolve(path))
    return Classifier(bundle, create_backend(bundle, backend, threads), batch_size=batch_size, threads=threads)


def label_sets(path: str | os.PathLike | None = None) -> list[str]:
    """Names of the label sets a bundle (a path or an installed model's name; None: the default) carries."""
    return Bundle.open(registry.resolve(path), verify=False).label_set_names()


def models() -> list[registry.ModelInfo]:
    """The installed models (entry-point group `emolite.bundles`), by name; broken ones carry `error`."""
    return sorted(registry.installed().values(), key=lambda m: m.name)
