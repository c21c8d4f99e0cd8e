"""TFLite backend: the bundle's int8 model.tflite through ai-edge-litert (or, if it proves itself, tflite-runtime).

The model has one static-shape signature per sequence-length bucket (batch 1, `L8`, `L16`, ...). Each
text runs in the smallest bucket that holds it; a batch is a loop over its rows.

ai-edge-litert's CompiledModel runs it with an XNNPACK weight cache file: XNNPACK packs each weight once for
all signatures (without the cache every signature held its own packed copy, 12 MB each) and a later process
maps the packed weights instead of packing again. The cache is derived data that changes answers, so its
sha256 is recorded beside it when it is made and checked before it is used again. tflite-runtime's last
release was measured to give silently wrong output on ai-edge-quantizer int8 models, so it is only used
when ai-edge-litert is absent, and the classifier's golden-vector check refuses it when it is wrong.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import platform
import sys
import threading
import weakref
from pathlib import Path

import numpy as np

from .bundle import Bundle, cache_dir, sha256_of
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
        self.buckets = sorted(int(n) for n in fmt["signatures"].values())
        names = {int(n): s for s, n in fmt["signatures"].items()}
        self.output_name = fmt.get("output", "sentence_embedding")
        self.pad_id = int(bundle.manifest["tokenizer"].get("pad_id", 0))
        self._lock = threading.Lock()  # a model runs one signature at a time
        model, prove = bundle.file_proved_later(fmt["file"])  # hashed while the runtime maps the model
        digest = bundle.manifest["files"][fmt["file"]]["sha256"]
        with _native_stderr_silenced():  # the runtime logs plugin and delegate notices to fd 2
            self.runner = make_runner(model, digest, threads, names, self.output_name, bundle.dim)
            prove()
            self.runtime = self.runner.runtime
            self._run_one(np.array([self.pad_id]), np.array([1]))  # packs the weights (or maps the cache)
            self.runner.finish_cache()

    @property
    def weight_cache(self) -> Path | None:
        """The XNNPACK weight cache file in use, or None."""
        return getattr(self.runner, "cache", None)

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
        padded_ids = np.full((1, size), self.pad_id, dtype=np.int32)
        padded_mask = np.zeros((1, size), dtype=np.int32)
        padded_ids[0, : len(ids)] = ids
        padded_mask[0, : len(mask)] = mask
        return self.runner.run(size, padded_ids, padded_mask)


def make_runner(model: Path, digest: str, threads: int | None, names: dict[int, str], output: str, dim: int):
    """CompiledModel with a weight cache when ai-edge-litert has it; else the Interpreter API."""
    if os.environ.get("EMOLITE_TFLITE_RUNTIME", "") not in ("tflite-runtime", "interpreter") and cpu_runs_compiled_model():
        try:
            return CompiledModelRunner(model, digest, threads, names, output, dim)
        except ImportError:  # ai-edge-litert without CompiledModel, or not installed
            pass
    return InterpreterRunner(model, threads, names, output)


def cpu_runs_compiled_model() -> bool:
    """ai-edge-litert 2.3's CompiledModel library died with SIGILL (an uncatchable crash) on an emulated
    Cortex-A72 (Raspberry Pi 4, ARMv8.0) and ran on a Cortex-A76 (Pi 5, ARMv8.2 with dot product); the
    Interpreter API runs on both. So on ARM it is used only where the CPU reports dot product (asimddp)."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return True
    if machine in ("aarch64", "arm64"):
        try:
            return "asimddp" in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").split()
        except OSError:
            return False
    return False


class CompiledModelRunner:
    """ai-edge-litert's CompiledModel with an XNNPACK weight cache; buffers made once per signature.

    Written over the runtime's pybind layer (`_pywrap_litert_*`), the calls its public `CompiledModel` and
    `TensorBuffer` make: the public module imports ml_dtypes, which took about 1 s at every start here, only
    to name dtypes this model does not use. Any missing piece raises ImportError and the Interpreter API runs.
    """

    runtime = "ai-edge-litert"

    def __init__(self, model: Path, digest: str, threads: int | None, names: dict[int, str], output: str, dim: int):
        try:
            from ai_edge_litert import _pywrap_litert_compiled_model_wrapper as compiled
            from ai_edge_litert import _pywrap_litert_environment_wrapper as environments
            from ai_edge_litert import _pywrap_litert_tensor_buffer_wrapper as buffers
            from ai_edge_litert.cpu_options import CpuOptions
            from ai_edge_litert.options import Options
        except ImportError:
            raise
        except Exception as exc:  # a layout this code does not know: use the Interpreter API
            raise ImportError(str(exc)) from exc

        cache, building = weight_cache_file(digest)
        self.cache = cache
        # A new cache is built under a name of this process's own, then renamed: processes never share a
        # half-written file.
        self._building = cache.with_name(f"{cache.name}.{os.getpid()}.tmp") if building and cache else None
        in_use = self._building or self.cache
        cpu = CpuOptions(num_threads=threads or 0, xnnpack_weight_cache_path=str(in_use or ""))
        # CPU only: a runtime path without accelerator libraries and no compiler plugin (the public
        # Environment.create loads the WebGPU accelerator and searches vendor plugins: memory and start time)
        environment = environments.CreateEnvironment(  # must outlive the model
            runtime_path=str(_cpu_runtime_dir()), compiler_plugin_path="", dispatch_library_path=""
        )
        compiled_model = compiled.CreateCompiledModelFromFile(
            environment, str(model), **Options(cpu_options=cpu)._as_flat_kwargs()
        )
        # Every native handle lives in `handles` only, released buffers first and the environment last,
        # with fd 2 silenced (the runtime logs its teardown there), when the runner goes or the process ends.
        self.handles = {"environment": environment, "model": compiled_model, "signatures": {}}
        weakref.finalize(self, _release_quietly, self.handles)
        _quiet_native_teardown()
        self._write, self._read = buffers.WriteTensorBuffer, buffers.ReadTensorToBuffer
        listing = compiled_model.GetSignatureList()
        self.dim = dim
        for size, key in names.items():
            index = compiled_model.GetSignatureIndex(key)
            inputs, outputs = compiled_model.CreateInputBuffers(index), compiled_model.CreateOutputBuffers(index)
            order = listing[key]["inputs"]
            slots = (order.index("input_ids"), order.index("attention_mask"), listing[key]["outputs"].index(output))
            self.handles["signatures"][size] = (index, inputs, outputs, *slots)

    def run(self, size: int, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        index, inputs, outputs, ids_at, mask_at, out_at = self.handles["signatures"][size]
        self._write(inputs[ids_at], ids.reshape(-1), "int32")
        self._write(inputs[mask_at], mask.reshape(-1), "int32")
        self.handles["model"].RunByIndex(index, inputs, outputs)
        result = np.empty(self.dim, dtype=np.float32)
        self._read(outputs[out_at], result, "float32")
        return result

    def finish_cache(self) -> None:
        """Publish a cache this process built (the first run has written it), its digest first."""
        built, self._building = self._building, None
        if built is None or self.cache is None:
            return
        try:
            if built.is_file():
                _digest_file(self.cache).write_text(sha256_of(built) + "\n", encoding="ascii")
                os.replace(built, self.cache)
        except OSError:  # a cache is an optimisation: never an error
            built.unlink(missing_ok=True)


class InterpreterRunner:
    """The Interpreter API (tflite-runtime, or EMOLITE_TFLITE_RUNTIME=interpreter): no weight cache."""

    cache = None

    def __init__(self, model: Path, threads: int | None, names: dict[int, str], output: str):
        interpreter_class, self.runtime = load_interpreter_class()
        self.interpreter = interpreter_class(model_path=str(model), num_threads=threads)
        self.runners = {n: self.interpreter.get_signature_runner(key) for n, key in names.items()}
        self.output = output
        details = self.runners[min(self.runners)].get_input_details()
        self.input_dtype = np.dtype(details["input_ids"]["dtype"])

    def run(self, size: int, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        result = self.runners[size](input_ids=ids.astype(self.input_dtype), attention_mask=mask.astype(self.input_dtype))
        return result[self.output][0]

    def finish_cache(self) -> None:
        pass


def weight_cache_file(model_digest: str) -> tuple[Path | None, bool]:
    """(cache file, whether this process makes it): one file per model, runtime version and machine.

    A cache whose recorded digest is missing or differs is deleted and made again. $EMOLITE_XNNPACK_CACHE=0
    turns the cache off; an unwritable cache folder does too.
    """
    if os.environ.get("EMOLITE_XNNPACK_CACHE", "1") == "0":
        return None, False
    import ai_edge_litert

    runtime = getattr(ai_edge_litert, "__version__", "unknown")
    key = hashlib.sha256(f"{model_digest}|{runtime}|{platform.machine()}".encode()).hexdigest()[:24]
    folder = cache_dir() / "xnnpack"
    path = folder / f"{key}.xnnpack"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            recorded = _digest_file(path)
            if recorded.is_file() and recorded.read_text(encoding="ascii").strip() == sha256_of(path):
                return path, False
            path.unlink()
        _digest_file(path).unlink(missing_ok=True)
        probe = folder / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return None, False
    return path, True


@functools.cache
def _quiet_native_teardown() -> None:
    """LiteRT's global accelerator registry logs "DestroyAccelerator" lines to fd 2 when the process ends,
    after every Python-level message (tracebacks included) is out: silence fd 2 for that last step only."""

    def silence() -> None:
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)

    atexit.register(silence)


def _release_quietly(handles: dict) -> None:
    with _native_stderr_silenced():
        for key in ("signatures", "model", "environment"):
            handles.pop(key, None)


def _cpu_runtime_dir() -> Path:
    """An empty folder: LiteRT finds no accelerator library there and runs on its built-in CPU path."""
    folder = cache_dir() / "litert-cpu"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return Path(os.devnull).parent
    return folder


def _digest_file(cache: Path) -> Path:
    return cache.with_name(cache.name + ".sha256")


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
