"""Each built-in strategy on the tiny preset, in this process: detections, evidence, batch/resize axes.

Small images (from a tmp folder) keep the mask reframing cheap; the model is the real tiny preset from
leakhunt's model cache (built on first use).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from leakhunt.strategies.factory import build  # noqa: E402

PRESET = "tiny"
IMAGE_SIZES = ((80, 96), (64, 64), (48, 40))  # width x height: three shapes in the cycle


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    for index, (width, height) in enumerate(IMAGE_SIZES):
        pixels = np.random.default_rng(index).integers(0, 255, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{index}.png")
    return str(folder)


@pytest.fixture(scope="module")
def tiny_model_paths():
    from leakhunt.models import get_frozen_graph_path, get_saved_model_path

    return get_frozen_graph_path(PRESET), get_saved_model_path(PRESET)


def _run(strategy, steps, **kwargs):
    """GIVEN a built strategy WHEN it steps THEN collect evidence and input shapes after each step."""
    workload = build(strategy=strategy, preset=PRESET, **kwargs)
    evidence, shapes = [], []
    try:
        for _ in range(steps):
            workload.step()
            evidence.append(workload.evidence())
            shapes.append(workload.last_input_shape)
        outputs = workload.last_outputs
    finally:
        workload.close()
    return workload, outputs, evidence, shapes


def _assert_detections(outputs, batch, height, width):
    assert outputs["num_detections"].shape == (batch,)
    assert outputs["detection_boxes"].shape == (batch, 100, 4)
    assert outputs["detection_scores"].shape == (batch, 100)
    assert outputs["detection_classes"].shape == (batch, 100)
    masks = outputs["detection_masks"]
    assert len(masks) == batch
    for index, mask in enumerate(masks):
        assert mask.dtype == np.uint8
        assert mask.shape == (int(outputs["num_detections"][index]), height, width)
        assert set(np.unique(mask)) <= {0, 1}


def test_tutorial_adds_ops_to_the_shared_graph_every_call(images_dir, tiny_model_paths):
    workload, outputs, evidence, shapes = _run("tutorial", 3, images=images_dir)
    ops = [item["graph_ops"] for item in evidence]
    assert ops[0] < ops[1] < ops[2]
    assert ops[2] - ops[1] == ops[1] - ops[0]  # the same post-processing ops, again and again
    assert shapes == [(1, 96, 80, 3), (1, 64, 64, 3), (1, 40, 48, 3)]
    _assert_detections(outputs, 1, 40, 48)


def test_persistent_graph_is_finalized_and_constant(images_dir, tiny_model_paths):
    workload = build(strategy="persistent", preset=PRESET, images=images_dir)
    try:
        counts = []
        for _ in range(3):
            workload.step()
            counts.append(workload.evidence()["graph_ops"])
        assert counts[0] == counts[1] == counts[2] == len(workload.graph.get_operations())
        assert workload.graph.finalized
        with pytest.raises(RuntimeError):
            with workload.graph.as_default():
                tf.constant(1)
        _assert_detections(workload.last_outputs, 1, 40, 48)
    finally:
        workload.close()


@pytest.mark.parametrize("strategy", ["session-per-call", "reset-graph"])
def test_session_strategies_keep_a_bounded_graph(strategy, images_dir, tiny_model_paths):
    workload, outputs, evidence, shapes = _run(strategy, 2, images=images_dir)
    assert evidence[0]["graph_ops"] == evidence[1]["graph_ops"] > 0
    _assert_detections(outputs, 1, 64, 64)


def test_saved_model_traces_its_post_processing_once(images_dir, tiny_model_paths):
    workload, outputs, evidence, shapes = _run("saved-model", 3, images=images_dir)
    assert [item["tracing_count"] for item in evidence] == [1, 1, 1]
    assert len({shape for shape in shapes}) == 3
    _assert_detections(outputs, 1, 40, 48)


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_tf_function_retrace_traces_on_every_call(images_dir, tiny_model_paths):
    workload, outputs, evidence, shapes = _run("tf-function-retrace", 3, images=images_dir)
    assert [item["tracing_count"] for item in evidence] == [1, 2, 3]
    _assert_detections(outputs, 1, 40, 48)
    assert outputs["frame"].tolist() == [2]


def test_batch_and_thumbnail_axes_shape_the_feed(images_dir, tiny_model_paths):
    workload, outputs, evidence, shapes = _run("persistent", 2, images=images_dir, batch=2,
                                               resize="thumbnail:60")
    assert workload.images_per_step == 2
    # thumbnail:60 keeps aspect ratio: 80x96 -> 50x60; the batch's second image is resized to match.
    assert shapes == [(2, 60, 50, 3), (2, 40, 48, 3)]
    _assert_detections(outputs, 2, 40, 48)


def test_fixed_resize_on_the_default_images(tiny_model_paths):
    workload, outputs, evidence, shapes = _run("saved-model", 2, resize="fixed:64x48", batch=3)
    assert shapes == [(3, 48, 64, 3), (3, 48, 64, 3)]
    _assert_detections(outputs, 3, 48, 64)


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_user_models_cross_api_families(images_dir, tiny_model_paths, tmp_path):
    frozen_path, saved_model_path = tiny_model_paths
    user_saved_model = tmp_path / "my_saved_model"
    shutil.copytree(saved_model_path, user_saved_model)
    workload, outputs, _, _ = _run("persistent", 1, images=images_dir, model_path=str(user_saved_model))
    assert any("SavedModel was frozen" in note for note in workload.notes)
    _assert_detections(outputs, 1, 96, 80)
    workload, outputs, _, _ = _run("saved-model", 1, images=images_dir, model_path=str(frozen_path))
    assert any("temporary" in note for note in workload.notes)
    _assert_detections(outputs, 1, 96, 80)


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="checks the no-GPU notes")
def test_gpu_axes_without_a_gpu_say_so_in_notes(images_dir, tiny_model_paths):
    workload = build(strategy="persistent", preset=PRESET, images=images_dir, device="gpu",
                     gpu_memory="fraction:0.5")
    try:
        joined = " | ".join(workload.notes)
        assert "device gpu had no effect" in joined
        assert "gpu-memory axis (fraction:0.5) had no effect" in joined
    finally:
        workload.close()
