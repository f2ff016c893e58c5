"""Leak: an eager request path that passes new Python floats (mean/std, a temperature) into TF ops per call.

Reports:
- tensorflow/tensorflow#68196 (open, TF 2.16.1): memory grows with `tf.constant` in a plain Python loop
  (for a fixed NumPy image this is flat on TF 2.21: eager_small_ops.py; this file is the case of new
  Python scalars every call).
- ROCm/tensorflow-upstream#1149: an eager loop bouncing between NumPy and TF grows because "Tensorflow
  caches scalar objects when in eager mode, and ... never bothers to empty that cache".
- tensorflow/tensorflow#32560 (merged): "Stop caching inf/nan floats", a fix for a leak in eager
  `tf.clip_by_global_norm`: the same scalar cache, for two values that never compare equal.

Pattern: eager pre- and post-processing of one request, with per-request Python floats: a brightness
offset and scale computed from the request (`x * scale + offset`), then softmax with a temperature that
is a new Python float every call. The model itself is called with a tensor; no tf.function.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): leak, ~2.6 KiB/iter (RSS)
/ ~2.0 KiB/iter (C heap), linear: +2,561 / +2,661 B/iter RSS (first / second half), +1,977 / +2,089
B/iter heap, +60.8 MiB RSS / +46.8 MiB heap over 25,000 calls (+6.6 MiB at call 2,480, +25.7 at 9,982,
+60.8 at 25,000); no automatic full collection ran, so none of it is cyclic garbage: ~0.7-0.9 KiB per
distinct Python float (three per call) that TensorFlow's eager scalar cache keeps. A bare check of the
cause (one eager multiply per call, 4,000 calls): a new Python float each call +664 B/call of C heap,
the same float every call +13 B/call, the new values as `np.float32` +0 B/call. ~4 ms/call on the
loaded machine (the model call is most of it).
"""

import itertools

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 2600
TRUTH_ITERATIONS = 25000
BENCH_ITERATIONS = 5000


def tiny_classifier() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential(
        [
            tf.keras.Input((32, 32, 3), name="image"),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(10),
        ]
    )


class PythonScalarsPerRequest:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_classifier()
        self.image = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
        self.counter = itertools.count()

    def step(self):
        i = next(self.counter)
        # Per-request statistics and a per-request temperature: Python floats that never repeat.
        mean = 127.5 + (i % 1000) * 1e-3 + i * 1e-9
        std = 64.0 + i * 1e-7
        temperature = 1.0 + i * 1e-6
        x = (tf.cast(tf.constant(self.image), tf.float32) - mean) / std
        logits = self.model(x, training=False)
        tf.nn.softmax(logits / temperature).numpy()

    def close(self):
        self.model = None


def make():
    return PythonScalarsPerRequest()
