"""Leak: every call's output tensor is appended to a Python list that lives as long as the process.

Reports:
- tensorflow/tensorflow#34606: "Memory leak when append predictions to list": `preds.append(pred)`
  for every batch grows (GPU) memory, also inside tf.function; `preds.append(np.array(pred))` moved the
  growth off the device. Closed for lack of a reproducer: the list, not TensorFlow, holds the memory.

Pattern: a segmentation-style model (a 3x3 conv with 8 channels, 'same' padding, so the output is a (1,
32, 32, 8) float32 feature map of 32 KiB) is called eagerly every step and its output tensor is kept in
`self.history` "for later aggregation". The leak is the application's, and it is exactly the output size
plus the tensor object per call.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~34 KiB/iter (RSS)
/ ~32.6 KiB/iter (C heap): +34,916 / +34,881 B/iter RSS (first / second half), +33,354 B/iter heap in
both halves (the 32,768-byte feature map plus ~590 B of tensor bookkeeping), +517 MiB RSS over 15,528
calls.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 34900


def tiny_segmenter() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential(
        [
            tf.keras.Input((32, 32, 3), name="image"),
            tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        ]
    )


class KeepOutputs:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_segmenter()
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")
        self.history = []

    def step(self):
        self.history.append(self.model(self.x, training=False))  # the bug: every output kept

    def close(self):
        self.history.clear()
        self.model = None


def make():
    return KeepOutputs()
