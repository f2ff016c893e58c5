"""Make a model usable by the other API family: a SavedModel frozen into an OD-API-shaped GraphDef for
the TF1 strategies, a frozen .pb wrapped into a temporary SavedModel for the TF2 ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leakhunt.errors import ModelFileError
from leakhunt.strategies.tf1 import DETECTION_KEYS

INPUT_NAME = "image_tensor"


def graph_def_from_saved_model(folder: Path) -> Any:
    """Freeze serving_default (variables -> constants) and re-expose it as image_tensor -> detection_*."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    loaded = tf.saved_model.load(str(folder))
    serve = loaded.signatures["serving_default"]
    frozen = convert_variables_to_constants_v2(serve)
    input_tensors = [tensor for tensor in frozen.inputs if tensor.dtype == tf.uint8]
    if len(input_tensors) != 1:
        raise ModelFileError(f"SavedModel {folder}: cannot find its single uint8 image input to freeze it for TF1")
    # The frozen function flattens its outputs; the signature's dict structure names them again.
    outputs = tf.nest.pack_sequence_as(serve.structured_outputs, frozen.outputs)
    keys = [key for key in DETECTION_KEYS if key in outputs]
    wrapper = tf.Graph()
    with wrapper.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [None, None, None, 3], name=INPUT_NAME)
        returned = tf.compat.v1.import_graph_def(
            frozen.graph.as_graph_def(),
            input_map={input_tensors[0].name: image},
            return_elements=[outputs[key].name for key in keys],
            name="saved_model",
        )
        for key, tensor in zip(keys, returned, strict=False):
            tf.identity(tensor, name=key)
    return wrapper.as_graph_def()


def saved_model_from_graph_def(graph_def: Any, out_dir: Path) -> Path:
    """Write a SavedModel whose serving_default runs the frozen graph (wrap_function + prune)."""
    import tensorflow as tf

    from leakhunt.models.export import saved_model_module

    node_names = {node.name for node in graph_def.node}
    keys = tuple(key for key in DETECTION_KEYS if key in node_names)
    module = saved_model_module(graph_def, keys)
    tf.saved_model.save(module, str(out_dir), signatures={"serving_default": module.serve})
    return out_dir
