"""Plateau: one concrete function (no retracing) fed images of arbitrary sizes; oneDNN caches per shape.

Reports:
- tensorflow/tensorflow#23455 (open): "Excessive MKL memory consumption with variable sized tensors":
  inference on examples of the same rank but different shapes gradually increases system memory.
- uxlfoundation/oneDNN#489 and pytorch/pytorch#27971: the growth is oneDNN's primitive cache, which keeps
  a JIT-compiled convolution (and its scratchpad) per distinct input shape up to a fixed capacity.
- tensorflow/tensorflow#124972 (TF 2.21): retracing on new shapes; an input signature removes the
  retracing (see concrete_function.py), but not this cache.

Pattern: a fully convolutional classifier behind `tf.function(input_signature=[TensorSpec([None, None,
None, 3]), ...])` (it traces once: `evidence()` reports tracing_count 1), fed one image per call whose
height and width are drawn uniformly from 16..111 (9,216 possible shapes), as a service receiving
arbitrary uploads would. Memory grows by roughly one cached primitive per new shape, then levels off when
the cache is full and starts evicting. `TF_ENABLE_ONEDNN_OPTS=0` turns the growth off (measured with
2,304 cycling sizes: ~+16 MiB RSS once, then flat).

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): plateau: grows ~32
KiB/iter RSS (~25 KiB/iter C heap) on average over the first half, then +29 B/iter RSS (+206 B/iter heap)
over the second half of 12,000 calls; RSS levels off at ~+228 MiB (heap ~+180 MiB) after ~2,400 calls and
stays there (+228.8 MiB at call 12,000). tracing_count stays 1. Cycling 2,304 fixed sizes instead gives
the same ~190 MiB heap plateau; with TF_ENABLE_ONEDNN_OPTS=0 the same loop stays at ~+16 MiB RSS / ~+1
MiB heap.
"""

import numpy as np
import tensorflow as tf

TRUTH = "plateau"
TRUTH_BYTES_PER_ITER = 0
TRUTH_ITERATIONS = 12000


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


class ArbitrarySizes:
    images_per_step = 1

    def __init__(self, min_side: int = 16, max_side: int = 111):
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
        self.sides = (min_side, max_side + 1)
        self.rng = np.random.default_rng(0)
        self.threshold = tf.constant(0.5)

    def step(self):
        height, width = self.rng.integers(*self.sides, size=2)
        images = tf.constant(self.rng.standard_normal((1, height, width, 3)).astype("float32"))
        self.serve(images, self.threshold).numpy()

    def evidence(self):
        return {"tracing_count": int(self.serve.experimental_get_tracing_count())}

    def close(self):
        self.serve = self.model = None


def make(min_side: int = 16, max_side: int = 111):
    return ArbitrarySizes(min_side, max_side)
