"""Runtimes that turn token ids into sentence embeddings. Each one is proved on golden vectors at load."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from .bundle import Bundle
from .errors import BackendUnavailableError, InvalidInputError
from .text import check_positive_int


class Backend(Protocol):
    name: str
    # False when a row's output depends on its batch-mates (dynamic per-tensor activation quantisation):
    # the classifier then runs one text per call so that a text's scores never depend on the batch.
    batch_invariant: bool

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """(n, L) int64 ids and mask -> (n, dim) float32 L2-normalised embeddings."""
        ...


class OnnxBackend:
    name = "onnx"

    def __init__(self, bundle: Bundle, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a base dependency
            raise BackendUnavailableError("onnxruntime is not installed: pip install onnxruntime") from exc
        fmt = bundle.manifest["formats"].get("onnx")
        if fmt is None:
            raise BackendUnavailableError(
                f"bundle {bundle.root} has no ONNX model (formats: {list(bundle.manifest['formats'])})"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0  # 0 = onnxruntime's choice (physical cores)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        model, prove = bundle.file_proved_later(fmt["file"])  # hashed while the session is built
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        prove()
        self.output_name = fmt.get("output", "sentence_embedding")
        self.batch_invariant = bool(fmt.get("batch_invariant", False))

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        return self.session.run([self.output_name], feeds)[0]


def _tflite_backend(bundle: Bundle, threads: int | None) -> Backend:
    from .backend_tflite import TFLiteBackend  # optional runtime, imported only when asked for

    return TFLiteBackend(bundle, threads)


BACKENDS = {
    "onnx": OnnxBackend,
    "tflite": _tflite_backend,
}


def available_formats(bundle: Bundle) -> list[str]:
    return [name for name in BACKENDS if name in bundle.manifest["formats"]]


def create_backend(bundle: Bundle, name: str = "auto", threads: int | None = None) -> Backend:
    """Create the named backend; "auto" takes the faster one that loads on this machine.

    $EMOLITE_BACKEND (onnx or tflite), when set, decides "auto" and is an error when unknown or unusable.
    Otherwise "auto" tries the bundle's `preferred_backend` (the export measures both int8
    runtimes on the probe set and records the faster), then the others. A TFLite backend on tflite-runtime
    (not ai-edge-litert) is skipped by "auto": that runtime was measured to give wrong int8 output; ask for
    backend="tflite" explicitly to have it checked against the golden vectors.
    """
    threads = check_positive_int("threads", threads)
    if name != "auto":
        if name not in BACKENDS:
            raise InvalidInputError(f"unknown backend '{name}'; choose one of: auto, {', '.join(BACKENDS)}")
        return BACKENDS[name](bundle, threads)
    forced = os.environ.get("EMOLITE_BACKEND", "").strip().lower()
    if forced and forced != "auto":  # an explicit choice: an error, never a silent fallback
        if forced not in BACKENDS:
            raise InvalidInputError(
                f"$EMOLITE_BACKEND is '{forced}'; choose one of: auto, {', '.join(BACKENDS)} (or unset it)"
            )
        if forced not in bundle.manifest["formats"]:
            raise BackendUnavailableError(
                f"$EMOLITE_BACKEND asks for {forced}, but bundle {bundle.root} has only: "
                f"{', '.join(bundle.manifest['formats'])}"
            )
        return BACKENDS[forced](bundle, threads)
    preferred = bundle.manifest.get("preferred_backend", "onnx")
    order = [preferred] + [b for b in available_formats(bundle) if b != preferred]
    errors = []
    for candidate in order:
        if candidate not in BACKENDS or candidate not in bundle.manifest["formats"]:
            continue
        try:
            backend = BACKENDS[candidate](bundle, threads)
        except BackendUnavailableError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        if getattr(backend, "runtime", None) == "tflite-runtime":
            errors.append(f"{candidate}: only tflite-runtime is installed; auto needs ai-edge-litert")
            continue
        return backend
    raise BackendUnavailableError("no usable backend for this bundle: " + "; ".join(errors))
