"""PyTorch -> ONNX (legacy exporter, opset 17) -> transformer fusion -> dynamic int8 per-channel.

Measured choices (docs/toolchain notes): the legacy exporter is exact and fuses fully; the dynamo exporter
was slower and did not fuse. Per-channel int8 on the fused graph keeps cosine >= 0.99 to fp32.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"


def export_fp32(encoder, out_path: Path, opset: int = OPSET) -> Path:
    """Trace the student (pooling and normalisation included) into an ONNX graph with dynamic batch and length."""
    import torch

    encoder = encoder.eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (ids, mask),
            str(out_path),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes={**dynamic, OUTPUT: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    return out_path


def fuse(fp32_path: Path, out_path: Path, num_heads: int, hidden_size: int) -> Path:
    """onnxruntime's BERT fusion: EmbedLayerNorm, Attention and SkipLayerNorm kernels."""
    from onnxruntime.transformers.optimizer import optimize_model

    model = optimize_model(
        str(fp32_path), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=1
    )
    log.info("fused operators: %s", model.get_fused_operator_statistics())
    model.save_model_to_file(str(out_path))
    return out_path


def quantize_int8(fused_path: Path, out_path: Path, keep_fp32: Iterable[str] = ()) -> Path:
    """Dynamic int8 weights, per channel; `keep_fp32` names MatMul nodes left in float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fused_path),
        str(out_path),
        weight_type=QuantType.QInt8,
        per_channel=True,
        nodes_to_exclude=list(keep_fp32),
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    return out_path


def matmul_nodes(onnx_path: Path) -> list[str]:
    """Names of the MatMul nodes, in graph order (used to pick FFN down-projections to keep in fp32)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type == "MatMul"]


def onnx_session(path: Path, threads: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
