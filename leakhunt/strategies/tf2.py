"""TF2 strategies on a SavedModel's serving_default signature: eager calls (saved-model) and the
tf.function retracing anti-pattern (tf-function-retrace). Evidence is the tf.function tracing count.
"""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from leakhunt.errors import ModelFileError
from leakhunt.strategies.postprocess import add_postprocessing, image_masks_for_one_image, to_numpy_outputs
from leakhunt.strategies.runtime import Runtime

SERVING_SIGNATURE = "serving_default"


class _Tf2Strategy:
    def __init__(self, saved_model_path: Path, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        import tensorflow as tf

        self._tf = tf
        self._batches = itertools.cycle(batches)
        self._runtime = runtime
        self.images_per_step = int(batches[0].shape[0])
        self.notes = notes
        self.last_outputs: dict[str, Any] | None = None
        self.last_input_shape: tuple[int, ...] | None = None
        with self._device_scope():
            self._model = tf.saved_model.load(str(saved_model_path))
        signatures = getattr(self._model, "signatures", {})
        if SERVING_SIGNATURE not in signatures:
            raise ModelFileError(f"SavedModel {saved_model_path} has no '{SERVING_SIGNATURE}' signature")
        self._serve = signatures[SERVING_SIGNATURE]
        input_keys = list(self._serve.structured_input_signature[1])
        if len(input_keys) != 1:
            raise ModelFileError(
                f"SavedModel {saved_model_path}: '{SERVING_SIGNATURE}' takes {len(input_keys)} inputs, "
                "leakhunt feeds one uint8 image batch"
            )
        self._input_key = input_keys[0]
        self.has_masks = "detection_masks" in self._serve.structured_outputs

    def _next_batch(self) -> Any:
        batch = next(self._batches)
        self.last_input_shape = tuple(batch.shape)
        return self._tf.constant(batch)

    def _device_scope(self) -> Any:
        name = self._runtime.device_name
        return self._tf.device(name) if name else contextlib.nullcontext()

    def _run_model(self, images: Any) -> dict[str, Any]:
        return dict(self._serve(**{self._input_key: images}))

    def close(self) -> None:
        self._model = None
        self._serve = None


class SavedModelStrategy(_Tf2Strategy):
    """tf.saved_model.load once, serving_default called eagerly; reframing traced once."""

    def __init__(self, saved_model_path: Path, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(saved_model_path, batches, runtime, notes)
        tf = self._tf
        # Every dimension left open, so new image sizes or detection counts never cause a retrace.
        self._reframe = tf.function(
            _reframe_image,
            input_signature=[
                tf.TensorSpec([None, None, None], tf.float32),
                tf.TensorSpec([None, 4], tf.float32),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([2], tf.int32),
            ],
        )

    def step(self) -> None:
        with self._device_scope():
            images = self._next_batch()
            outputs = self._run_model(images)
            if self.has_masks:
                image_size = self._tf.shape(images)[1:3]
                outputs["detection_masks"] = [
                    self._reframe(outputs["detection_masks"][index], outputs["detection_boxes"][index],
                                  outputs["num_detections"][index], image_size)
                    for index in range(self.images_per_step)
                ]
        self.last_outputs = to_numpy_outputs(outputs)

    def evidence(self) -> dict[str, int]:
        return {"tracing_count": int(self._reframe.experimental_get_tracing_count())}


def _reframe_image(masks: Any, boxes: Any, num_detections: Any, image_size: Any) -> Any:
    return image_masks_for_one_image(masks, boxes, num_detections, image_size[0], image_size[1], squeeze=False)


class TfFunctionRetraceStrategy(_Tf2Strategy):
    """A tf.function around model + post-processing, called with a new Python int per call."""

    def __init__(self, saved_model_path: Path, batches: list[np.ndarray], runtime: Runtime, notes: list[str]):
        super().__init__(saved_model_path, batches, runtime, notes)
        self._frame_index = 0
        self._detect = self._tf.function(self._detect_python)

    def _detect_python(self, images: Any, frame_index: int) -> dict[str, Any]:
        tf = self._tf
        outputs = self._run_model(images)
        image_shape = tf.shape(images)
        outputs = add_postprocessing(outputs, self.images_per_step, image_shape[1], image_shape[2])
        # A Python int is part of the trace key: every new frame number means a new trace.
        outputs["frame"] = tf.fill(tf.shape(outputs["num_detections"]), frame_index)
        return outputs

    def step(self) -> None:
        with self._device_scope():
            images = self._next_batch()
            outputs = self._detect(images, self._frame_index)
        self._frame_index += 1
        self.last_outputs = to_numpy_outputs(outputs)

    def evidence(self) -> dict[str, int]:
        return {"tracing_count": int(self._detect.experimental_get_tracing_count())}


TF2_CLASSES = {
    "saved-model": SavedModelStrategy,
    "tf-function-retrace": TfFunctionRetraceStrategy,
}
