"""SmoothQuant for onnxruntime's dynamic int8: move activation outliers into the weights before quantising.

onnxruntime quantises activations per tensor at run time, so a few outlier channels (BERT's [CLS]/[SEP]
rows, GELU outputs) spend the int8 range of every other channel; on short texts that cost cosine ~0.04.
For each quantised MatMul/Attention `X @ W` we insert `X * (1/s)` and fold `s` into the rows of `W`
(Xiao et al., 2023, s_j = max|X_j|^a / max|W_j|^(1-a)). The product is unchanged in float; the int8
error shrinks. Calibration uses unlabelled texts only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ALPHA = 0.7  # measured on the probe set: 0.5 -> 0.973, 0.6 -> 0.991, 0.7 -> 0.994, 0.8 -> 0.993 mean cosine


def smooth_targets(model) -> list:
    """Nodes whose float weight input will be int8: fused Attention and MatMul with a constant B."""
    inits = {i.name for i in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type == "Attention" or (node.op_type == "MatMul" and node.input[1] in inits):
            out.append(node)
    return out


def channel_maxima(model_path: Path, inputs: list[str], batches: Iterable[dict]) -> dict[str, np.ndarray]:
    """Per-channel max |x| of the named graph tensors, over every token of the calibration batches."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_path))
    known = {o.name for o in model.graph.output}
    for name in inputs:
        if name not in known:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    maxima: dict[str, np.ndarray] = {}
    for feeds in batches:
        values = session.run(inputs, feeds)
        for name, value in zip(inputs, values):
            amax = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            maxima[name] = amax if name not in maxima else np.maximum(maxima[name], amax)
    return maxima


def smooth(model_path: Path, out_path: Path, batches: Iterable[dict], alpha: float = ALPHA) -> Path:
    """Write a float graph equal to `model_path` whose quantised inputs carry no outlier channels."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    targets = smooth_targets(model)
    maxima = channel_maxima(model_path, sorted({n.input[0] for n in targets}), batches)
    inits = {i.name: i for i in model.graph.initializer}
    for k, node in enumerate(targets):
        weight = numpy_helper.to_array(inits[node.input[1]])
        act = np.maximum(maxima[node.input[0]], 1e-5)
        wmax = np.maximum(np.abs(weight).max(axis=1), 1e-5)
        scale = (act**alpha / wmax ** (1 - alpha)).astype(np.float32)
        inits[node.input[1]].CopyFrom(numpy_helper.from_array(weight * scale[:, None], node.input[1]))
        inv_name, smoothed = f"smooth_inv_{k}", f"{node.input[0]}_smooth_{k}"
        model.graph.initializer.append(numpy_helper.from_array((1.0 / scale).astype(np.float32), inv_name))
        model.graph.node.append(
            onnx.helper.make_node("Mul", [node.input[0], inv_name], [smoothed], name=f"Smooth_{k}")
        )
        node.input[0] = smoothed
    model = _toposort(model)
    onnx.save(model, str(out_path))
    log.info("smoothed %d quantised inputs (alpha %.2f)", len(targets), alpha)
    return out_path


def _toposort(model):
    """Re-order nodes so that every input is produced before it is used (the Mul nodes were appended)."""
    graph = model.graph
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        rest = []
        for node in pending:
            if all(name in ready for name in node.input):
                ordered.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle or an undefined input")
        pending = rest
    del graph.node[:]
    graph.node.extend(ordered)
    return model
