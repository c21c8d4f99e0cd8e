"""emolite: on-device zero-shot text emotion recognition.

    import emolite
    clf = emolite.load()
    clf.predict("I can't believe I won!").predicted
"""

from __future__ import annotations

import os

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
        path: bundle directory or archive (.zip, .tar.gz).
        backend: "onnx", "tflite" (needs ai-edge-litert) or "auto".
        threads: intra-op threads for the runtime; None lets the runtime choose.
        batch_size: texts per inference call, in length-sorted chunks padded per chunk. None: 32 when the
            backend's output is batch-invariant, else 1 (dynamic int8 ONNX: a text's activations are
            quantised with its batch-mates', so batching would make its scores depend on them).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    threads = check_positive_int("threads", threads)
    bundle = Bundle.open(path)
    return Classifier(bundle, create_backend(bundle, backend, threads), batch_size=batch_size, threads=threads)


def label_sets(path: str | os.PathLike | None = None) -> list[str]:
    """Names of the label sets a bundle carries (the default bundle when `path` is None)."""
    return Bundle.open(path, verify=False).label_set_names()
