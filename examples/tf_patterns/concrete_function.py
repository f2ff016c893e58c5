"""No-leak control: the retracing workload of retrace_new_shapes.py, fixed with an input signature.

Reports:
- tensorflow/tensorflow#124972 (TF 2.21): unbounded growth from retracing on varying input shapes; an
  `input_signature` with `None` dimensions (or `reduce_retracing=True`) is the documented way to get one
  graph for all sizes.
- tensorflow/tensorflow#50765: a `@tf.function` called on the *same* input reportedly grew RAM on
  TF 2.8-2.11 ("reproducible on tf 2.11"); this control also checks that this no longer happens.

Pattern: the classifier of retrace_new_shapes.py behind `tf.function(input_signature=[TensorSpec([None,
None, None, 3]), TensorSpec([])])`: the score threshold is passed as a tensor, and the images come in
four sizes (a camera's resolutions). It traces once; `evidence()` reports the tracing count (stays 1).
With *unbounded* image sizes the tracing count still stays 1, but oneDNN caches a convolution primitive
per input shape: see onednn_shape_cache.py (a plateau, not flat).

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): flat: +12 / +2 B/iter RSS
(first / second half), +1 / +0 B/iter C heap, +0.2 MiB RSS in all over 17,250 calls after 50 warm-up
calls; tracing_count stays 1. No trace of the growth #50765 reported for TF 2.8-2.11.
"""

import itertools

import numpy as np
import tensorflow as tf

TRUTH = "flat"
TRUTH_BYTES_PER_ITER = 0


def fully_convolutional_classifier() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential(
        [
            tf.keras.Input((None, None, 3), name="image"),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(10),
        ]
    )


class ConcreteFunctionLoop:
    images_per_step = 1

    SIZES = ((24, 24), (32, 32), (48, 32), (64, 48))

    def __init__(self):
        self.model = fully_convolutional_classifier()
        model = self.model

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, 3], tf.float32),
                tf.TensorSpec([], tf.float32),
            ]
        )
        def serve(images, threshold):
            logits = model(images, training=False)
            return tf.cast(tf.nn.softmax(logits) > threshold, tf.int32)

        self.serve = serve
        self.rng = np.random.default_rng(0)
        self.counter = itertools.count()
        self.threshold = tf.constant(0.5)  # a tensor, not a Python float: no retrace when it changes

    def step(self):
        i = next(self.counter)
        height, width = self.SIZES[i % len(self.SIZES)]
        images = tf.constant(self.rng.standard_normal((1, height, width, 3)).astype("float32"))
        self.serve(images, self.threshold).numpy()

    def evidence(self):
        return {"tracing_count": int(self.serve.experimental_get_tracing_count())}

    def close(self):
        self.serve = self.model = None


def make():
    return ConcreteFunctionLoop()
