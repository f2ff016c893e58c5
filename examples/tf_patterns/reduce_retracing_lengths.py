"""Plateau (bounded warm-up): `tf.function(reduce_retracing=True)` fed a new input length on every call.

Reports:
- tensorflow/tensorflow#38561 and #38002: variable-length inputs retrace a tf.function ("5 out of the
  last 5 calls ... triggered tf.function retracing"); `experimental_relax_shapes=True` (now
  `reduce_retracing=True`) is the advice given.
- tensorflow/tensorflow#124972 (TF 2.21): retracing on varying shapes grows memory without bound.
- France-Travail/gabarit#174: "reduce_retracing was not completely preventing memory leaks"; they fixed
  the input signature instead.

Pattern: a bag-of-words text classifier (embedding lookup, average pooling, dense) behind
`tf.function(reduce_retracing=True)`, fed token sequences whose length changes every call (8..1031 tokens,
cycling); the function retraces for the first few lengths and then generalises to a `None` length.
`evidence()` reports the tracing count. (No convolution on purpose: a Conv1D here adds oneDNN's
per-shape primitive cache, ~110 KiB per new length, a plateau of its own: see onednn_shape_cache.py.)

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05, 20,000 calls after 50
warm-up calls): plateau: a bounded warm-up. tracing_count is 2 after the warm-up and stays 2 (one trace
for the first length, one generalised to a `None` length). RSS climbs while lengths are new: +0.5 MiB by
call 200, +1.74 MiB by call 1,000 (~1.7 KiB per new length, until all 1,024 lengths have been seen once,
by call ~974), then +0.15 MiB more by call 2,000 and +2.0 MiB from call ~8,000 on, level to 20,000
(first half +80 B/iter, second half +4 B/iter). The C heap: +0.61 MiB by call 1,000, +0.81 MiB from call
~2,300 on, level (+32 / +0 B/iter). No automatic full collection ran. The whole climb (~2 MiB) is about
the size of a 2 MiB growth floor: a bounded warm-up, not a leak and not nothing. ~1.0-1.4 ms/call.
With 256 lengths (8..263) it was +0.52 MiB by call 200 and +1.0 MiB level from call ~2,000; with a
Conv1D layer as well, +29 MiB by call 2,000 then level (oneDNN's per-shape cache).
"""

import itertools

import numpy as np
import tensorflow as tf

TRUTH = "plateau"
TRUTH_BYTES_PER_ITER = 0
TRUTH_ITERATIONS = 20000
BENCH_ITERATIONS = 3000


def tiny_text_classifier() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential(
        [
            tf.keras.Input((None,), dtype="int32", name="tokens"),
            tf.keras.layers.Embedding(1000, 16),
            tf.keras.layers.GlobalAveragePooling1D(),
            tf.keras.layers.Dense(4),
        ]
    )


class ReduceRetracingLengths:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_text_classifier()
        model = self.model

        @tf.function(reduce_retracing=True)
        def serve(tokens):
            return tf.nn.softmax(model(tokens, training=False))

        self.serve = serve
        self.rng = np.random.default_rng(0)
        self.counter = itertools.count()

    def step(self):
        length = 8 + next(self.counter) % 1024
        tokens = self.rng.integers(0, 1000, (1, length), dtype=np.int32)
        self.serve(tf.constant(tokens)).numpy()

    def evidence(self):
        return {"tracing_count": int(self.serve.experimental_get_tracing_count())}

    def close(self):
        self.serve = self.model = None


def make():
    return ReduceRetracingLengths()
