"""`leakhunt model info`: parameters, graph nodes, interface shapes and FLOPs of a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from leakhunt.models.load import ModelSource, load_graph_def
from leakhunt.models.presets import DEFAULT_PRESET, INPUT_NAME
from leakhunt.models.resolve import resolve_model

# A VGA camera frame: what soak runs feed by default, resized in-graph by each preset's resizer.
REFERENCE_IMAGE_HW = (480, 640)
# Multiply-add ops counted for FLOPs (2 FLOPs per multiply-add); everything else is noise next to them.
_FLOP_OPS = ("Conv2D", "DepthwiseConv2dNative", "MatMul", "BatchMatMulV2")


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: str


@dataclass(frozen=True)
class ModelInfo:
    source: ModelSource
    parameter_count: int
    graph_node_count: int
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    image_hw: tuple[int, int]
    flops: int | None  # per image at image_hw; None where not computed (SavedModel)


def _shape_text(shape: Any) -> str:
    if shape.rank is None:
        return "unknown"
    return "[" + ", ".join("None" if dim is None else str(dim) for dim in shape.as_list()) + "]"


def graph_parameter_count(graph_def: Any, prefix: str = "") -> int:
    """Elements of floating-point constants of rank >= 1 (the frozen weights) under a name prefix."""
    from tensorflow.core.framework import types_pb2

    total = 0
    for node in graph_def.node:
        if node.op != "Const" or not node.name.startswith(prefix):
            continue
        tensor = node.attr["value"].tensor
        if tensor.dtype not in (types_pb2.DT_FLOAT, types_pb2.DT_HALF, types_pb2.DT_DOUBLE, types_pb2.DT_BFLOAT16):
            continue
        dims = [dim.size for dim in tensor.tensor_shape.dim]
        if dims:
            total += int(np.prod(dims))
    return total


def _flops_per_run(graph: Any, session: Any, feed: dict) -> int:
    """Run once, reading the runtime shapes of every multiply-add op, and sum their FLOPs."""
    import tensorflow as tf

    ops = [op for op in graph.get_operations() if op.type in _FLOP_OPS]
    with graph.as_default():
        shape_fetches = [(op, tf.shape(op.inputs[0]), tf.shape(op.inputs[1]), tf.shape(op.outputs[0])) for op in ops]
    values = session.run([fetches[1:] for fetches in shape_fetches], feed)
    total = 0
    for (op, _, _, _), (a_shape, b_shape, out_shape) in zip(shape_fetches, values, strict=True):
        out_elements = int(np.prod(out_shape))
        if op.type == "Conv2D":
            kh, kw, cin = b_shape[:3]
            total += 2 * out_elements * int(kh * kw * cin)
        elif op.type == "DepthwiseConv2dNative":
            kh, kw = b_shape[:2]
            total += 2 * out_elements * int(kh * kw)
        else:
            transpose_a = op.get_attr("transpose_a" if op.type == "MatMul" else "adj_x")
            inner = a_shape[-2] if transpose_a else a_shape[-1]
            total += 2 * out_elements * int(inner)
    return total


def _frozen_info(source: ModelSource, image_hw: tuple[int, int]) -> ModelInfo:
    import tensorflow as tf

    graph_def = load_graph_def(source.path)
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    image = graph.get_tensor_by_name(f"{INPUT_NAME}:0")
    inputs = (TensorInfo(INPUT_NAME, image.dtype.name, _shape_text(image.shape)),)
    outputs = tuple(
        TensorInfo(name, tensor.dtype.name, _shape_text(tensor.shape))
        for name in source.output_names
        for tensor in [graph.get_tensor_by_name(f"{name}:0")]
    )
    reference = np.random.RandomState(0).randint(0, 256, (1, *image_hw, 3)).astype(np.uint8)
    with tf.compat.v1.Session(graph=graph) as session:
        flops = _flops_per_run(graph, session, {image: reference})
    return ModelInfo(source, graph_parameter_count(graph_def), len(graph_def.node), inputs, outputs, image_hw, flops)


def _saved_model_info(source: ModelSource, image_hw: tuple[int, int]) -> ModelInfo:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(source.path))
    signature = loaded.signatures["serving_default"]
    input_specs = signature.structured_input_signature[1]
    inputs = tuple(TensorInfo(name, spec.dtype.name, _shape_text(spec.shape)) for name, spec in input_specs.items())
    outputs = tuple(
        TensorInfo(name, spec.dtype.name, _shape_text(spec.shape))
        for name, spec in sorted(signature.structured_outputs.items())
    )
    graph_def = signature.graph.as_graph_def()
    node_count = len(graph_def.node) + sum(len(function.node_def) for function in graph_def.library.function)
    parameters = sum(int(np.prod(variable.shape)) for variable in signature.variables)
    parameters += graph_parameter_count(graph_def)
    for function in graph_def.library.function:
        from tensorflow.core.framework import graph_pb2

        parameters += graph_parameter_count(graph_pb2.GraphDef(node=function.node_def))
    return ModelInfo(source, parameters, node_count, inputs, outputs, image_hw, None)


def model_info(
    model_path: str | None = None,
    preset: str = DEFAULT_PRESET,
    seed: int = 0,
    image_hw: tuple[int, int] = REFERENCE_IMAGE_HW,
) -> ModelInfo:
    """Describe a user model or an embedded preset (built on first use)."""
    source = resolve_model(model_path, preset, seed)
    if source.kind == "saved_model":
        return _saved_model_info(source, image_hw)
    return _frozen_info(source, image_hw)


def format_model_info(info: ModelInfo) -> str:
    source = info.source
    label = f"embedded preset {source.preset!r}" if source.preset else str(source.path)
    flops = (
        f"{info.flops / 1e9:.2f} GFLOPs per {info.image_hw[0]}x{info.image_hw[1]} image "
        "(conv + matmul, 2 per multiply-add)"
        if info.flops is not None
        else "not computed for SavedModels (pass the frozen .pb)"
    )
    lines = [
        f"model:       {label} ({source.kind})",
        f"path:        {source.path}",
        f"parameters:  {info.parameter_count:,}",
        f"graph nodes: {info.graph_node_count:,}",
        f"masks:       {'yes' if source.has_masks else 'no'}",
        f"flops:       {flops}",
        "inputs:",
        *(f"  {t.name}: {t.dtype} {t.shape}" for t in info.inputs),
        "outputs:",
        *(f"  {t.name}: {t.dtype} {t.shape}" for t in info.outputs),
    ]
    return "\n".join(lines)
