"""The limit: what int8 GEMM throughput this machine achieves, and how much of it the model reaches.

The micro-benchmark runs onnxruntime's MatMulInteger (the kernel the int8 model uses) on the encoder's
three weight shapes with constant int8 weights (so onnxruntime prepacks them, as it does for the model).
The graph is a committed 600-byte file, `gemm_int8.onnx`, built by `build_gemm_model` with onnx.helper,
so a device with only the SDK installed can run it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

GEMM_MODEL = Path(__file__).with_name("gemm_int8.onnx")
HIDDEN, INTERMEDIATE = 384, 1536
# (name, K, N) of the weight matrices of one MiniLM-L6 layer, and how many of each a layer has.
SHAPES = (
    ("qkvo", HIDDEN, HIDDEN, 4),
    ("ffn_up", HIDDEN, INTERMEDIATE, 1),
    ("ffn_down", INTERMEDIATE, HIDDEN, 1),
)
MAX_POSITIONS = 512
PEAK_ROWS = 512  # the GEMM row count added to the sequence lengths to find the machine's best rate


def build_gemm_model() -> bytes:
    """A graph with one MatMulInteger per weight shape; weights are ConstantOfShape, folded at load."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, outputs = [], [], []
    inputs = [
        helper.make_tensor_value_info(f"{name}_a", TensorProto.UINT8, ["M", k]) for name, k, _, _ in SHAPES
    ]
    for name, k, n, _ in SHAPES:
        inits.append(numpy_helper.from_array(np.array([k, n], dtype=np.int64), f"{name}_shape"))
        value = helper.make_tensor("value", TensorProto.INT8, [1], [3])
        nodes.append(helper.make_node("ConstantOfShape", [f"{name}_shape"], [f"{name}_w"], value=value))
        nodes.append(helper.make_node("MatMulInteger", [f"{name}_a", f"{name}_w"], [f"{name}_y"]))
        outputs.append(helper.make_tensor_value_info(f"{name}_y", TensorProto.INT32, ["M", n]))
    graph = helper.make_graph(nodes, "emolite_gemm_int8", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="emolite")
    model.ir_version = 8
    return model.SerializeToString()


def gemm_session(threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(GEMM_MODEL), options, providers=["CPUExecutionProvider"])


def time_gemm(session, name: str, m: int, min_time_s: float) -> float:
    """Median seconds of one (m x k) @ (k x n) int8 GEMM of the weight shape `name`.

    onnxruntime runs every node whatever is fetched, so the other shapes get one-row inputs (a few us).
    """
    rng = np.random.default_rng(0)
    feeds = {
        f"{s}_a": rng.integers(0, 255, size=(m if s == name else 1, d), dtype=np.uint8)
        for s, d, _, _ in SHAPES
    }
    out = [f"{name}_y"]
    for _ in range(3):
        session.run(out, feeds)
    times, start = [], time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < min_time_s:
        t0 = time.perf_counter()
        session.run(out, feeds)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def gemm_benchmark(threads: int, rows: tuple[int, ...], min_time_s: float = 0.2) -> dict:
    """int8 GOPS (2*M*K*N per GEMM) per weight shape and row count M, plus the per-layer mix at each M."""
    session = gemm_session(threads)
    results, mix = [], {}
    for m in rows:
        layer_ops, layer_s = 0, 0.0
        for name, k, n, count in SHAPES:
            seconds = time_gemm(session, name, m, min_time_s)
            ops = 2 * m * k * n
            results.append(
                {
                    "shape": name,
                    "m": m,
                    "k": k,
                    "n": n,
                    "ms": round(seconds * 1e3, 4),
                    "gops": round(ops / seconds / 1e9, 2),
                }
            )
            layer_ops += count * ops
            layer_s += count * seconds
        mix[str(m)] = round(layer_ops / layer_s / 1e9, 2)
    return {
        "threads": threads,
        "kernel": "onnxruntime MatMulInteger (u8 x s8, prepacked)",
        "results": results,
        "layer_mix_gops": mix,
        "peak_gops": max(r["gops"] for r in results),
    }


def vocab_size(bundle_root: str | Path) -> int:
    """Word pieces in the bundle's vocabulary file (30522, BERT's, when the file is missing)."""
    from emolite.bundle import read_manifest

    root = Path(bundle_root)
    vocab = root / read_manifest(root)["tokenizer"].get("vocab", "vocab.txt")
    return sum(1 for _ in open(vocab, encoding="utf-8")) if vocab.is_file() else 30522


def encoder_shape(manifest: dict, vocab_size: int) -> dict:
    """Layers, hidden and intermediate size of a BERT-style encoder from the manifest.

    Uses explicit fields when the manifest has them; else infers the layer count from the parameter count
    (12H^2+13H per layer, intermediate = 4H, 512 positions, with or without a pooler) - an estimate.
    """
    enc = manifest["encoder"]
    hidden = int(enc.get("hidden_size", enc["embedding_dim"]))
    inter = int(enc.get("intermediate_size", 4 * hidden))
    if "num_layers" in enc:
        return {
            "layers": int(enc["num_layers"]),
            "hidden": hidden,
            "intermediate": inter,
            "method": "manifest",
        }
    embeddings = (vocab_size + MAX_POSITIONS + 2) * hidden + 2 * hidden
    per_layer = 4 * hidden * hidden + 2 * hidden * inter + 9 * hidden + inter
    rest = int(enc["parameters"]) - embeddings
    with_pooler = (rest - hidden * hidden - hidden) / per_layer
    layers = round(with_pooler) if abs(with_pooler - round(with_pooler)) < 0.05 else round(rest / per_layer)
    return {
        "layers": max(layers, 1),
        "hidden": hidden,
        "intermediate": inter,
        "method": "from parameter count",
    }


def model_flops(shape: dict, length: int) -> int:
    """FLOPs (2 per multiply-add) of one forward pass over `length` tokens: weight GEMMs plus attention."""
    h, i, n = shape["hidden"], shape["intermediate"], length
    gemm = n * (4 * h * h + 2 * h * i)
    attention = 2 * n * n * h  # scores (Q K^T) and context (P V)
    return 2 * shape["layers"] * (gemm + attention)
