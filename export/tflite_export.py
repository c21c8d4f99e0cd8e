"""PyTorch -> TFLite (litert-torch, static shapes, one signature per length bucket) -> dynamic int8.

Traps measured (../shared/notes/toolchain.md): dynamic shapes fail in litert-torch's lowering; the same
tensor object passed as two sample inputs gives a silently wrong model; full-integer int8 is unusable.
Signatures `L16`, `L32`, ... share one set of weight buffers. ai-edge-quantizer's `dynamic_wi8_afp32`
quantises weights per channel; the word-embedding table is quantised per tensor instead, and tensor names
and per-channel scales are de-duplicated across signatures (`compact`): 26.7 MB -> 23.6 MB, cosine 0.9958
-> 0.9955 on the probe set.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"
INPUT_DTYPE = "int32"  # litert-torch narrows int64 model inputs to int32
RECIPE = "dynamic_wi8_afp32"


def signature_name(length: int) -> str:
    return f"L{length}"


def _named_output(encoder):
    """Wrap the encoder so that the TFLite signature output is called `sentence_embedding`."""
    import torch

    class NamedOutput(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return {OUTPUT: self.inner(input_ids, attention_mask)}

    return NamedOutput(encoder).eval()


def convert_fp32(encoder, out_path: Path, buckets: Sequence[int]) -> Path:
    """One static-shape signature per bucket, batch 1, weights shared between signatures."""
    import litert_torch
    import torch

    module = _named_output(encoder)
    converter = litert_torch.Converter()
    generator = torch.Generator().manual_seed(0)
    for length in buckets:
        # Fresh tensors per input and per signature: a shared sample tensor corrupts the converted graph.
        ids = torch.randint(1000, 2000, (1, length), dtype=torch.int64, generator=generator)
        mask = torch.ones((1, length), dtype=torch.int64)
        converter.signature(
            signature_name(length), module, sample_kwargs={"input_ids": ids, "attention_mask": mask}
        )
    with torch.no_grad():
        converter.convert().export(str(out_path))
    return out_path


def quantize_int8(fp32_path: Path, out_path: Path) -> Path:
    """ai-edge-quantizer dynamic int8 (weights int8 per channel, activations quantised per row at run time)."""
    from ai_edge_quantizer import qtyping, quantizer, recipe

    q = quantizer.Quantizer(str(fp32_path))
    q.load_quantization_recipe(getattr(recipe, RECIPE)())
    # Per-tensor scales for the 30522-row embedding table: per-channel scales cost 366 KB per signature.
    q.add_dynamic_config(
        ".*", qtyping.TFLOperationName.EMBEDDING_LOOKUP, 8, qtyping.QuantGranularity.TENSORWISE
    )
    q.quantize().export_model(str(out_path), overwrite=True)
    return out_path


@contextlib.contextmanager
def _shared_quantization_tables() -> Iterator[None]:
    """Pack each QuantizationParameters object once; tensors holding the same object share its table."""
    from ai_edge_litert import schema_py_generated as fb

    original = fb.QuantizationParametersT.Pack
    packed: dict[int, int] = {}

    def pack(self, builder):
        if id(self) not in packed:
            packed[id(self)] = original(self, builder)
        return packed[id(self)]

    fb.QuantizationParametersT.Pack = pack
    try:
        yield
    finally:
        fb.QuantizationParametersT.Pack = original


def _quant_key(q) -> tuple:
    as_bytes = lambda v: None if v is None else np.asarray(v).tobytes()  # noqa: E731
    return (as_bytes(q.scale), as_bytes(q.zeroPoint), as_bytes(q.min), as_bytes(q.max), q.quantizedDimension)


def compact(path: Path) -> Path:
    """Shorten tensor names and share identical per-channel scale tables between signatures (in place).

    Signatures address tensors by index and carry their own input/output names, so tensor names are free.
    """
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(path))
    tables: dict[tuple, object] = {}
    for graph in model.subgraphs:
        for index, tensor in enumerate(graph.tensors):
            tensor.name = f"t{index}"
            q = tensor.quantization
            if q is not None and q.scale is not None and len(q.scale) > 1:
                tensor.quantization = tables.setdefault(_quant_key(q), q)
    with _shared_quantization_tables():
        data = flatbuffer_utils.convert_object_to_bytearray(model)
    path.write_bytes(data)
    path.chmod(0o644)  # the quantizer's writer leaves the file executable
    return path


def build_int8(encoder, out_path: Path, work: Path, buckets: Sequence[int]) -> Path:
    """The shipped model.tflite: convert, quantise, compact."""
    convert_fp32(encoder, work / "fp32.tflite", buckets)
    quantize_int8(work / "fp32.tflite", out_path)
    return compact(out_path)
