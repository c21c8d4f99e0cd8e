"""TFLite backend: the bundle's int8 model.tflite through ai-edge-litert (or, if it proves itself, tflite-runtime).

The model has one static-shape signature per sequence-length bucket (batch 1, `L16`, `L32`, ...). Each
text runs in the smallest bucket that holds it; a batch is a loop over its rows. tflite-runtime's last
release was measured to give silently wrong output on ai-edge-quantizer int8 models, so it is only used
when ai-edge-litert is absent, and the classifier's golden-vector check refuses it when it is wrong.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

import numpy as np

from .bundle import Bundle
from .errors import BackendUnavailableError

INSTALL_HINT = "pip install ai-edge-litert (or: pip install 'emolite[tflite]')"


def load_interpreter_class() -> tuple[type, str]:
    """(Interpreter class, runtime name): ai-edge-litert first; tflite-runtime only as a fallback.

    EMOLITE_TFLITE_RUNTIME=tflite-runtime forces the fallback (to check a device's runtime).
    """
    wanted = os.environ.get("EMOLITE_TFLITE_RUNTIME", "")
    if wanted != "tflite-runtime":
        try:
            from ai_edge_litert.interpreter import Interpreter

            return Interpreter, "ai-edge-litert"
        except ImportError:
            pass
    try:
        from tflite_runtime.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter, "tflite-runtime"
    except ImportError as exc:
        raise BackendUnavailableError(f"the tflite backend needs ai-edge-litert: {INSTALL_HINT}") from exc


class TFLiteBackend:
    name = "tflite"
    batch_invariant = True  # one text per signature call: a text's output never depends on its batch-mates

    def __init__(self, bundle: Bundle, threads: int | None = None):
        fmt = bundle.manifest["formats"].get("tflite")
        if fmt is None:
            raise BackendUnavailableError(
                f"bundle {bundle.root} has no TFLite model (formats: {list(bundle.manifest['formats'])})"
            )
        interpreter_class, self.runtime = load_interpreter_class()
        self.interpreter = interpreter_class(model_path=str(bundle.file(fmt["file"])), num_threads=threads)
        self.buckets = sorted(int(n) for n in fmt["signatures"].values())
        names = {int(n): s for s, n in fmt["signatures"].items()}
        self.runners = {n: self.interpreter.get_signature_runner(names[n]) for n in self.buckets}
        self.output_name = fmt.get("output", "sentence_embedding")
        details = self.runners[self.buckets[0]].get_input_details()
        self.input_dtype = np.dtype(details["input_ids"]["dtype"])
        self.pad_id = int(bundle.manifest["tokenizer"].get("pad_id", 0))
        self._lock = threading.Lock()  # an interpreter runs one signature at a time
        with _native_stderr_silenced():  # the runtime prints "INFO: Created ... XNNPACK delegate" at first run
            self._run_one(np.array([self.pad_id]), np.array([1]))

    def bucket(self, length: int) -> int:
        """The smallest bucket holding `length` tokens (the tokenizer truncates to the largest)."""
        for n in self.buckets:
            if n >= length:
                return n
        raise ValueError(f"{length} tokens exceed the largest bucket {self.buckets[-1]}")

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        lengths = attention_mask.sum(axis=1)
        out = []
        with self._lock:
            for ids, mask, n in zip(input_ids, attention_mask, lengths):
                out.append(self._run_one(ids[: int(n)], mask[: int(n)]))
        return np.stack(out).astype(np.float32, copy=False)

    def _run_one(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        size = self.bucket(len(ids))
        padded_ids = np.full((1, size), self.pad_id, dtype=self.input_dtype)
        padded_mask = np.zeros((1, size), dtype=self.input_dtype)
        padded_ids[0, : len(ids)] = ids
        padded_mask[0, : len(mask)] = mask
        result = self.runners[size](input_ids=padded_ids, attention_mask=padded_mask)
        return result[self.output_name][0]


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send file descriptor 2 to /dev/null for a moment: the C++ runtime writes there, not to sys.stderr."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded interpreters): nothing to hide
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
