"""Small leak: a new Keras model built on every call, with `tf.keras.backend.clear_session()` each time.

Reports:
- keras-team/keras#2102: fchollet: `K.clear_session()` "is recommended if you ever create models inside
  a loop".
- tensorflow/tensorflow#61791 (TF 2.11-2.13): memory still grows with `Model.fit()` in a loop although
  `clear_session()` is called; the same code was flat on TF 2.9.
- tensorflow/tensorflow#33030 (comment of 2022-12-26): calling `clear_session()` after every predict()
  stopped a leak on TF 2.11.

Pattern: keras_model_per_call.py with `tf.keras.backend.clear_session()` before each build. Note that
clear_session() runs a full `gc.collect()`, which costs ~0.2 s per call with TensorFlow loaded, so this
workload is slow (~4 calls/s on a 2-core machine); `make(free_memory=False)` skips it.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): a small leak, ~1.4
KiB/iter (C heap), not flat: +1,442 / +1,282 B/iter heap (first / second half), +579 / +1,504 B/iter RSS,
+1.5 MiB heap and +1.1 MiB RSS over 1,000 calls. A 4,000-call check with
`clear_session(free_memory=False)` and a `gc.collect()` before each reading gave the same heap slope
(+1.37..1.63 KiB/iter, steady), so it is linear, not a warm-up. clear_session() removes ~99% of
keras_model_per_call's leak, not all of it; the Python gc object count grows by about one small object
per call, so the rest is native. With ~0.2 s per call, 1,000 calls hold only ~1.4 MiB more: a hard case
for any detector.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 1400
TRUTH_ITERATIONS = 1000


def tiny_classifier() -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.Input((32, 32, 3), name="image"),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(10),
        ]
    )


class ModelPerCallCleared:
    images_per_step = 1

    def __init__(self, free_memory: bool = True):
        tf.keras.utils.set_random_seed(0)
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")
        self.free_memory = free_memory

    def step(self):
        # drops Keras' global state, resets the default graph, clears the eager kernel cache, gc.collect()
        tf.keras.backend.clear_session(free_memory=self.free_memory)
        model = tiny_classifier()
        model(self.x, training=False).numpy()

    def close(self):
        tf.keras.backend.clear_session()


def make(free_memory: bool = True):
    """free_memory=False skips clear_session's gc.collect(), by far the slowest part of a call."""
    return ModelPerCallCleared(free_memory)
