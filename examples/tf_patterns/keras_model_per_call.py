"""Leak: a new Keras model built on every call, without `tf.keras.backend.clear_session()`.

Reports:
- keras-team/keras#2102: memory grows when models are created in a loop (k-fold, hyper-parameter
  sweeps); fchollet: use `K.clear_session()` "if you ever create models inside a loop".
- keras-team/keras#9345: "Ran out of memory while repeatedly creating models": the layer names
  (input_156, ...) showed that Keras kept every previous model around.
- tensorflow/tensorflow#30324 (TF 2.0, eager): memory leak when creating a Keras model in a loop.

Pattern: a service that rebuilds its (tiny) model for every request, e.g. to switch between per-client
head sizes, and runs one eager inference with it: `build model -> model(x, training=False)`. The previous
model is dropped by Python; nothing calls clear_session(). Compare keras_model_per_call_cleared.py.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~150 KiB/iter (RSS)
/ ~146 KiB/iter (C heap): +156,337 / +146,171 B/iter RSS (first / second half), +147,318 / +145,415
B/iter heap, +310 MiB RSS over 2,139 calls. Keras 3 still keeps every model reachable from its global
state.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 150000


def tiny_classifier() -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.Input((32, 32, 3), name="image"),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(10),
        ]
    )


class ModelPerCall:
    images_per_step = 1

    def __init__(self):
        tf.keras.utils.set_random_seed(0)
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")

    def step(self):
        model = tiny_classifier()  # the bug: a new model (new variables, new layer names) per call
        model(self.x, training=False).numpy()

    def close(self):
        tf.keras.backend.clear_session()


def make():
    return ModelPerCall()
