"""The embedded Mask R-CNN (tiny preset), its cache, and validation of user model files."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.model_files import make_random_bytes
from leakhunt.errors import BadInputError, ModelFileError
from leakhunt.models import (
    OUTPUT_NAMES,
    get_frozen_graph_path,
    get_saved_model_path,
    load_graph_def,
    resolve_model,
    validate_model_path,
)

tf = pytest.importorskip("tensorflow")

PRESET = "tiny"


@pytest.fixture(autouse=True)
def _fresh_model_cache(use_model_cache):
    """Every test here builds into (and reads) this session's fresh model cache."""


@pytest.fixture(scope="session")
def frozen_session(frozen_path):
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(load_graph_def(frozen_path), name="")
    session = tf.compat.v1.Session(graph=graph)
    yield session
    session.close()


def run_frozen(session, images):
    fetches = {name: f"{name}:0" for name in OUTPUT_NAMES}
    return session.run(fetches, {"image_tensor:0": images})


def random_images(batch, height=240, width=320, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (batch, height, width, 3)).astype(np.uint8)


# ---------------------------------------------------------------- interface


@pytest.mark.parametrize("batch", [1, 2])
def test_outputs_match_the_od_api_interface(frozen_session, batch):
    outputs = run_frozen(frozen_session, random_images(batch))
    detections = 100
    expected_shapes = {
        "num_detections": (batch,),
        "detection_boxes": (batch, detections, 4),
        "detection_scores": (batch, detections),
        "detection_classes": (batch, detections),
        "detection_masks": (batch, detections, 15, 15),
    }
    for name, shape in expected_shapes.items():
        assert outputs[name].shape == shape, name
        assert outputs[name].dtype == np.float32, name
        assert np.all(np.isfinite(outputs[name])), name
    boxes = outputs["detection_boxes"]
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0
    valid = int(outputs["num_detections"][0])
    assert 0 < valid <= detections
    classes = outputs["detection_classes"][0, :valid]
    assert classes.min() >= 1 and classes.max() <= 90  # 1-based COCO labels
    masks = outputs["detection_masks"]
    assert masks.min() >= 0.0 and masks.max() <= 1.0


def test_input_placeholder_is_uint8_of_unknown_shape(frozen_session):
    image = frozen_session.graph.get_tensor_by_name("image_tensor:0")
    assert image.dtype == tf.uint8
    assert image.shape.as_list() == [None, None, None, 3]


def test_same_seed_builds_bit_identical_graphs(frozen_path):
    from leakhunt.models.maskrcnn import build_graph_def_bytes
    from leakhunt.models.presets import PRESETS

    assert build_graph_def_bytes(PRESETS[PRESET], 0) == frozen_path.read_bytes()


def test_unknown_preset_is_bad_input():
    with pytest.raises(BadInputError, match="unknown model preset"):
        get_frozen_graph_path("huge")


# ---------------------------------------------------------------- architecture

# MODEL.md's Inception v2 table, up to Mixed_4e, written here independently of leakhunt's code.
# Each branch: list of (kernel, depth) convs; "pool" entries have no parameters.
INCEPTION_V2_TO_MIXED_4E = [
    ("Mixed_3b", [[(1, 64)], [(1, 64), (3, 64)], [(1, 64), (3, 96), (3, 96)], ["pool", (1, 32)]]),
    ("Mixed_3c", [[(1, 64)], [(1, 64), (3, 96)], [(1, 64), (3, 96), (3, 96)], ["pool", (1, 64)]]),
    ("Mixed_4a", [[(1, 128), (3, 160)], [(1, 64), (3, 96), (3, 96)], ["pool"]]),
    ("Mixed_4b", [[(1, 224)], [(1, 64), (3, 96)], [(1, 96), (3, 128), (3, 128)], ["pool", (1, 128)]]),
    ("Mixed_4c", [[(1, 192)], [(1, 96), (3, 128)], [(1, 96), (3, 128), (3, 128)], ["pool", (1, 128)]]),
    ("Mixed_4d", [[(1, 160)], [(1, 128), (3, 160)], [(1, 128), (3, 160), (3, 160)], ["pool", (1, 96)]]),
    ("Mixed_4e", [[(1, 96)], [(1, 128), (3, 192)], [(1, 160), (3, 192), (3, 192)], ["pool", (1, 96)]]),
]


def expected_backbone_parameters():
    """Conv weights + one bias per output channel (BN folded), from the table above."""
    # Conv2d_1a_7x7: depthwise 7x7 on 3 channels x 8, pointwise 24 -> 64, bias 64.
    total = 7 * 7 * 3 * 8 + 24 * 64 + 64
    total += 64 * 64 + 64  # Conv2d_2b_1x1
    total += 3 * 3 * 64 * 192 + 192  # Conv2d_2c_3x3
    channels = 192
    for _, branches in INCEPTION_V2_TO_MIXED_4E:
        out_channels = 0
        for branch in branches:
            depth = channels
            for layer in branch:
                if layer == "pool":
                    continue
                kernel, out_depth = layer
                total += kernel * kernel * depth * out_depth + out_depth
                depth = out_depth
            out_channels += depth
        channels = out_channels
    assert channels == 576
    return total


def test_backbone_parameter_count_matches_the_model_table(frozen_path):
    graph_def = load_graph_def(frozen_path)
    counted = 0
    for node in graph_def.node:
        tensor = node.attr["value"].tensor
        is_float_constant = node.op == "Const" and tensor.dtype == tf.float32.as_datatype_enum
        if is_float_constant and node.name.startswith("FirstStageFeatureExtractor/"):
            dims = [dim.size for dim in tensor.tensor_shape.dim]
            if dims:
                counted += int(np.prod(dims))
    assert counted == expected_backbone_parameters()


def test_mixed_4e_has_stride_16_and_576_channels(frozen_session):
    # 256x448 is resized by tiny's 128/224 resizer to exactly 128x224.
    features = frozen_session.graph.get_tensor_by_name("FirstStageFeatureExtractor/InceptionV2/Mixed_4e/concat:0")
    value = frozen_session.run(features, {"image_tensor:0": random_images(1, 256, 448)})
    assert value.shape == (1, 128 // 16, 224 // 16, 576)


# ---------------------------------------------------------------- SavedModel


def test_saved_model_gives_the_same_detections_as_the_frozen_graph(frozen_session):
    folder = get_saved_model_path(PRESET, seed=0)
    source = validate_model_path(str(folder))
    assert source.kind == "saved_model" and source.has_masks
    serving = tf.saved_model.load(str(folder)).signatures["serving_default"]
    images = random_images(1, seed=3)
    saved = serving(tf.constant(images))
    frozen = run_frozen(frozen_session, images)
    for name in OUTPUT_NAMES:
        np.testing.assert_allclose(saved[name].numpy(), frozen[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_resolve_model_without_a_path_is_the_embedded_frozen_graph(frozen_path):
    source = resolve_model(None, PRESET)
    assert (source.kind, source.path, source.preset, source.has_masks) == ("frozen", frozen_path, PRESET, True)
    assert source.output_names == OUTPUT_NAMES


def test_cli_info_and_export(tmp_path, frozen_path):
    from typer.testing import CliRunner

    from leakhunt.cli.model import model_app

    info = CliRunner().invoke(model_app, ["info", "--preset", PRESET, "--height", "120", "--width", "160"])
    assert info.exit_code == 0, info.output
    assert "detection_masks: float32 [None, 100, 15, 15]" in info.output
    assert "image_tensor: uint8 [None, None, None, 3]" in info.output
    assert "GFLOPs per 120x160 image" in info.output

    exported = CliRunner().invoke(model_app, ["export", "--preset", PRESET, "--out", str(tmp_path / "export")])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "export" / "frozen_inference_graph.pb").read_bytes() == frozen_path.read_bytes()
    assert validate_model_path(str(tmp_path / "export" / "saved_model")).kind == "saved_model"


# ---------------------------------------------------------------- bad model files


def _graph_def_file(path, build):
    graph = tf.Graph()
    with graph.as_default():
        build()
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return path


def _detection_outputs(images):
    batch = tf.shape(images)[0]
    tf.identity(tf.zeros([batch]), name="num_detections")
    tf.identity(tf.zeros([batch, 1, 4]), name="detection_boxes")
    tf.identity(tf.zeros([batch, 1]), name="detection_scores")
    tf.identity(tf.zeros([batch, 1]), name="detection_classes")


def make_missing(tmp_path, frozen_path):
    return tmp_path / "nowhere" / "frozen_inference_graph.pb"


def make_truncated(tmp_path, frozen_path):
    data = frozen_path.read_bytes()
    target = tmp_path / "truncated.pb"
    target.write_bytes(data[: len(data) // 2])
    return target


def make_truncated_at_node_boundary(tmp_path, frozen_path):
    graph_def = load_graph_def(frozen_path)
    del graph_def.node[len(graph_def.node) // 2 :]
    target = tmp_path / "cut.pb"
    target.write_bytes(graph_def.SerializeToString())
    return target


def make_no_image_tensor(tmp_path, frozen_path):
    return _graph_def_file(
        tmp_path / "no_input.pb",
        lambda: _detection_outputs(tf.compat.v1.placeholder(tf.uint8, [None, None, None, 3], name="images")),
    )


def make_float_input(tmp_path, frozen_path):
    return _graph_def_file(
        tmp_path / "float_input.pb",
        lambda: _detection_outputs(tf.compat.v1.placeholder(tf.float32, [None, None, None, 3], name="image_tensor")),
    )


def make_saved_model_without_signature(tmp_path, frozen_path):
    folder = tmp_path / "no_signature"
    tf.saved_model.save(tf.Module(), str(folder))
    return folder


BAD_MODELS = [
    (make_missing, "not found"),
    (make_truncated, "truncated or corrupt"),
    (make_truncated_at_node_boundary, "truncated"),
    (make_random_bytes, "re-export"),
    (make_no_image_tensor, "no 'image_tensor' input"),
    (make_float_input, "is float32, leakhunt feeds uint8"),
    (make_saved_model_without_signature, "no 'serving_default' signature"),
]


@pytest.mark.parametrize("make_bad_model, expected", BAD_MODELS, ids=[make.__name__ for make, _ in BAD_MODELS])
def test_bad_model_file_is_one_clear_error(tmp_path, frozen_path, make_bad_model, expected):
    from typer.testing import CliRunner

    from leakhunt.cli.model import model_app

    bad_path = make_bad_model(tmp_path, frozen_path)
    with pytest.raises(ModelFileError) as raised:
        validate_model_path(str(bad_path))
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message and str(bad_path.name) in message

    result = CliRunner().invoke(model_app, ["info", "--model", str(bad_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert f"leakhunt: error: {message}" in result.output
