"""The strategy registry, axis parsing, matrix expansion and image loading: pure Python, no TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from leakhunt.errors import BadInputError
from leakhunt.rundir.config import StrategySpec
from leakhunt.strategies import matrix
from leakhunt.strategies.options import parse_resize_value
from leakhunt.strategies.registry import DEFAULT_COMPARISON, STRATEGIES
from leakhunt.workloads import images as images_module


def test_registry_describes_every_strategy():
    assert set(STRATEGIES) == {"tutorial", "session-per-call", "reset-graph", "persistent", "saved-model",
                               "tf-function-retrace"}
    for name, info in STRATEGIES.items():
        assert info.name == name
        assert info.api in ("tf1", "tf2")
        assert info.description and len(info.code_pattern.strip().splitlines()) >= 3
    assert set(DEFAULT_COMPARISON) <= set(STRATEGIES)


def test_axis_values_accept_repeats_and_comma_lists():
    assert matrix.parse_batch(["1,4", "8", "4"]) == [1, 4, 8]
    assert matrix.parse_resize(["none,Thumbnail:600", "fixed:640X480"]) == ["none", "thumbnail:600",
                                                                              "fixed:640x480"]
    assert matrix.parse_gpu_memory(["default,growth", "fraction:0.70"]) == ["default", "growth", "fraction:0.7"]
    assert matrix.parse_strategies(["persistent,tutorial", "persistent"]) == ["persistent", "tutorial"]


@pytest.mark.parametrize(
    ("parse", "values", "expected_words"),
    [
        (matrix.parse_batch, ["0"], ["--batch", "greater than 0", "0"]),
        (matrix.parse_batch, ["four"], ["--batch", "four"]),
        (matrix.parse_resize, ["fixed:0x10"], ["--resize", "fixed:0x10", "greater than 0"]),
        (matrix.parse_resize, ["stretch:10"], ["--resize", "none, thumbnail:N"]),
        (matrix.parse_gpu_memory, ["fraction:1.5"], ["--gpu-memory", "fraction:1.5", "(0, 1]"]),
        (matrix.parse_gpu_memory, ["half"], ["--gpu-memory", "half"]),
        (matrix.parse_strategies, ["persistant"], ["persistant", "tutorial", "persistent", "saved-model"]),
    ],
)
def test_invalid_axis_values_raise_one_clear_line(parse, values, expected_words):
    with pytest.raises(BadInputError) as caught:
        parse(values)
    message = str(caught.value)
    assert "\n" not in message
    for word in expected_words:
        assert word in message


def test_matrix_names_show_only_varying_or_non_default_axes():
    specs = matrix.expand_matrix(["persistent", "tutorial"], [1, 4], ["thumbnail:600"], ["default"], None,
                                 "tiny", None, None, seed=3)
    assert [spec.name for spec in specs] == [
        "persistent[batch=1,resize=thumbnail:600]",
        "persistent[batch=4,resize=thumbnail:600]",
        "tutorial[batch=1,resize=thumbnail:600]",
        "tutorial[batch=4,resize=thumbnail:600]",
    ]
    spec = specs[1]
    assert isinstance(spec, StrategySpec)
    assert spec.factory == "leakhunt.strategies.factory:build"
    assert spec.factory_kwargs == {"strategy": "persistent", "preset": "tiny", "model_path": None, "seed": 3,
                                   "batch": 4, "resize": "thumbnail:600", "gpu_memory": "default",
                                   "device": None, "images": None}
    assert spec.code_pattern == STRATEGIES["persistent"].code_pattern
    assert StrategySpec.from_json(spec.to_json()) == spec


def test_matrix_default_axes_keep_plain_names():
    specs = matrix.expand_matrix(list(DEFAULT_COMPARISON), [1], ["none"], ["default"], None, "small", None, None)
    assert [spec.name for spec in specs] == list(DEFAULT_COMPARISON)
    specs = matrix.expand_matrix(["saved-model"], [1], ["none"], ["default", "growth"], "gpu", "small", None, None)
    assert [spec.name for spec in specs] == ["saved-model[gpu-memory=default,device=gpu]",
                                             "saved-model[gpu-memory=growth,device=gpu]"]


def test_matrix_rejects_bad_values_given_directly():
    with pytest.raises(BadInputError, match="--batch"):
        matrix.expand_matrix(["persistent"], [0], ["none"], ["default"], None, "tiny", None, None)
    with pytest.raises(BadInputError, match="--device"):
        matrix.expand_matrix(["persistent"], [1], ["none"], ["default"], "tpu", "tiny", None, None)


def test_default_images_are_the_sample_in_several_sizes():
    loaded = matrix.load_images(None)
    assert [image.shape for image in loaded] == [(600, 512, 3), (450, 384, 3), (300, 256, 3)]
    assert all(image.dtype == np.uint8 for image in loaded)


def test_resize_modes_give_the_promised_sizes():
    image = np.zeros((600, 512, 3), np.uint8)
    thumb = images_module.resize_image(image, parse_resize_value("thumbnail:300"))
    assert thumb.shape == (300, 256, 3)  # aspect ratio kept, long side 300
    small = np.zeros((100, 80, 3), np.uint8)
    # never enlarges
    assert images_module.resize_image(small, parse_resize_value("thumbnail:300")).shape == (100, 80, 3)
    assert images_module.resize_image(image, parse_resize_value("fixed:640x480")).shape == (480, 640, 3)
    assert images_module.resize_image(image, parse_resize_value("none")) is image


def test_batches_hold_equal_sized_images_of_the_first_images_size():
    cycle = [np.full((60 + 10 * index, 50, 3), index, np.uint8) for index in range(3)]
    batches = images_module.make_batches(cycle, 2)
    # 3 images, batch 2: the cycle repeats after 3 batches (6 images).
    assert [batch.shape for batch in batches] == [(2, 60, 50, 3), (2, 80, 50, 3), (2, 70, 50, 3)]
    assert images_module.make_batches(cycle, 1)[1].shape == (1, 70, 50, 3)


def _write_images(folder, sizes):
    folder.mkdir(exist_ok=True)
    for index, (width, height) in enumerate(sizes):
        Image.new("RGB", (width, height), (index * 40, 90, 200)).save(folder / f"img{index}.png")


def test_images_folder_skips_broken_files_with_a_warning(tmp_path, capsys):
    folder = tmp_path / "imgs"
    _write_images(folder, [(64, 48), (40, 80)])
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    assert matrix.validate_images_dir(folder) == 2
    loaded = matrix.load_images(str(folder))
    assert [image.shape for image in loaded] == [(48, 64, 3), (80, 40, 3)]
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "notes.txt" in err


@pytest.mark.parametrize("case", ["missing", "file", "empty", "only-broken", "too-small"])
def test_unusable_images_folder_is_bad_input(tmp_path, case):
    folder = tmp_path / "imgs"
    if case == "file":
        folder.write_text("x")
    elif case != "missing":
        folder.mkdir()
    if case == "only-broken":
        (folder / "a.jpg").write_text("not a jpeg")
    if case == "too-small":
        _write_images(folder, [(20, 20)])
    with pytest.raises(BadInputError) as caught:
        matrix.validate_images_dir(str(folder))
    assert str(folder) in str(caught.value)
    if case != "file":
        with pytest.raises(BadInputError):
            matrix.load_images(str(folder))
