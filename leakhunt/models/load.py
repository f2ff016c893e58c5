"""Load and validate model files: the embedded presets, a user's frozen .pb, or a SavedModel folder.

Every problem becomes a ModelFileError with one line saying what is wrong and how to fix it; protobuf
and TensorFlow exceptions never reach the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leakhunt.errors import ModelFileError
from leakhunt.models.presets import (
    INPUT_NAME,
    OUTPUT_NAMES,
    REQUIRED_OUTPUT_NAMES,
)

SERVING_SIGNATURE = "serving_default"
_EXPORT_HINT = "export it with the TF Object Detection API's exporter (input_type image_tensor)"


@dataclass(frozen=True)
class ModelSource:
    """A validated model: where it is, how to load it, and which detection outputs it has."""

    kind: str  # "frozen" | "saved_model"
    path: Path
    preset: str | None
    has_masks: bool
    output_names: tuple[str, ...]


def _dtype_name(enum_value: int) -> str:
    import tensorflow as tf

    try:
        return tf.dtypes.as_dtype(enum_value).name
    except TypeError:
        return f"dtype enum {enum_value}"


def _read_model_bytes(path: Path) -> bytes:
    if not path.exists():
        raise ModelFileError(
            f"model file not found: {path}; pass a frozen .pb or a SavedModel folder, or omit --model "
            "to use the embedded model"
        )
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a frozen .pb; pass the folder as a SavedModel instead")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"cannot read model file {path}: {error.strerror}; check its permissions") from None
    if not data:
        raise ModelFileError(f"model file {path} is empty; re-export or re-download it")
    return data


def _node_base_name(input_name: str) -> str:
    return input_name.lstrip("^").split(":", 1)[0]


def load_graph_def(path: Any) -> Any:
    """Parse and validate a frozen OD API GraphDef; ModelFileError on anything unusable."""
    path = Path(path)
    data = _read_model_bytes(path)  # before importing TensorFlow: a missing file is answered at once
    from leakhunt.models.tf_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework import graph_pb2, types_pb2

    graph_def = graph_pb2.GraphDef()
    hint = " (that is a SavedModel file: pass its folder instead)" if path.name == "saved_model.pb" else ""
    try:
        graph_def.ParseFromString(data)
    except DecodeError:
        raise ModelFileError(
            f"{path} is not a TensorFlow GraphDef (truncated or corrupt .pb){hint}; re-export or re-download it"
        ) from None
    if not graph_def.node:
        raise ModelFileError(f"{path} holds no graph nodes, so it is not a frozen graph{hint}; re-export it")
    nodes = {node.name: node for node in graph_def.node}
    dangling = sorted({_node_base_name(name) for node in graph_def.node for name in node.input} - nodes.keys())
    if dangling:
        raise ModelFileError(
            f"{path} is incomplete: {len(dangling)} node input(s) refer to missing nodes (e.g. {dangling[0]!r}), "
            "so the file is probably truncated; re-export or re-download it"
        )
    image_node = nodes.get(INPUT_NAME)
    if image_node is None:
        raise ModelFileError(f"{path} has no '{INPUT_NAME}' input node; {_EXPORT_HINT}")
    input_dtype = image_node.attr["dtype"].type
    if image_node.op != "Placeholder":
        raise ModelFileError(f"{path}: '{INPUT_NAME}' is a {image_node.op} node, not a Placeholder; {_EXPORT_HINT}")
    if input_dtype != types_pb2.DT_UINT8:
        raise ModelFileError(
            f"{path}: '{INPUT_NAME}' is {_dtype_name(input_dtype)}, leakhunt feeds uint8 images; {_EXPORT_HINT}"
        )
    missing = [name for name in REQUIRED_OUTPUT_NAMES if name not in nodes]
    if missing:
        raise ModelFileError(
            f"{path} lacks the detection output(s) {', '.join(missing)} (a truncated file, or not an OD API "
            f"detection export); re-download it or {_EXPORT_HINT}"
        )
    return graph_def


def _read_saved_model_proto(folder: Path) -> Any:
    from leakhunt.models.tf_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    from google.protobuf import text_format
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    binary_path, text_path = folder / "saved_model.pb", folder / "saved_model.pbtxt"
    try:
        if binary_path.is_file():
            proto.ParseFromString(binary_path.read_bytes())
        elif text_path.is_file():
            text_format.Parse(text_path.read_text(), proto)
        else:
            raise ModelFileError(
                f"{folder} is a folder without saved_model.pb; pass a SavedModel folder or a frozen .pb file"
            )
    except (DecodeError, text_format.ParseError, UnicodeDecodeError):
        raise ModelFileError(
            f"{folder}/saved_model.pb is not a SavedModel (truncated or corrupt); re-export it"
        ) from None
    except OSError as error:
        raise ModelFileError(f"cannot read SavedModel {folder}: {error.strerror}; check its permissions") from None
    if not proto.meta_graphs:
        raise ModelFileError(f"{folder}/saved_model.pb holds no MetaGraph; re-export the SavedModel")
    return proto


def validate_saved_model(folder: Path) -> ModelSource:
    """Check the serving_default signature of a SavedModel folder without loading its variables."""
    if not (folder / "saved_model.pb").is_file() and not (folder / "saved_model.pbtxt").is_file():
        raise ModelFileError(f"{folder} is a folder without saved_model.pb; pass a SavedModel folder or a "
                             "frozen .pb file")
    proto = _read_saved_model_proto(folder)
    from tensorflow.core.framework import types_pb2

    signatures = proto.meta_graphs[0].signature_def
    if SERVING_SIGNATURE not in signatures:
        found = ", ".join(sorted(signatures)) or "none"
        raise ModelFileError(
            f"SavedModel {folder} has no '{SERVING_SIGNATURE}' signature (found: {found}); "
            "save it with signatures={'serving_default': ...} or use the OD API's exporter_main_v2.py"
        )
    signature = signatures[SERVING_SIGNATURE]
    inputs = list(signature.inputs.values())
    if len(inputs) != 1:
        raise ModelFileError(
            f"SavedModel {folder}: '{SERVING_SIGNATURE}' takes {len(inputs)} inputs, leakhunt feeds one uint8 "
            f"image batch; {_EXPORT_HINT}"
        )
    if inputs[0].dtype != types_pb2.DT_UINT8:
        raise ModelFileError(
            f"SavedModel {folder}: the '{SERVING_SIGNATURE}' input is {_dtype_name(inputs[0].dtype)}, "
            f"leakhunt feeds uint8 images; {_EXPORT_HINT}"
        )
    output_keys = set(signature.outputs)
    missing = [name for name in REQUIRED_OUTPUT_NAMES if name not in output_keys]
    if missing:
        raise ModelFileError(
            f"SavedModel {folder}: '{SERVING_SIGNATURE}' lacks the output(s) {', '.join(missing)}; {_EXPORT_HINT}"
        )
    present = tuple(name for name in OUTPUT_NAMES if name in output_keys)
    return ModelSource("saved_model", folder, None, "detection_masks" in output_keys, present)


def _frozen_source(path: Path, preset: str | None) -> ModelSource:
    graph_def = load_graph_def(path)
    node_names = {node.name for node in graph_def.node}
    present = tuple(name for name in OUTPUT_NAMES if name in node_names)
    return ModelSource("frozen", path, preset, "detection_masks" in node_names, present)


def validate_model_path(model_path: str) -> ModelSource:
    """Validate a user's model (frozen .pb file or SavedModel folder); ModelFileError if unusable."""
    path = Path(model_path).expanduser()
    if path.is_dir():
        return validate_saved_model(path)
    return _frozen_source(path, None)
