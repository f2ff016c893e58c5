"""Leak (small, in Python): a serving step that keeps one small record per request in a list.

Reports (no public report of exactly this code was found; it stands for the small per-call leaks below,
which are too slow for an eye on a memory graph):
- tensorflow/tensorflow#38598 (comment of 2020-05-27): after the predict leak was fixed in the nightly,
  memory "still increased by 200 MB" over ~3 million predicts: ~70 B per call, a leak of this size.
- tensorflow/tensorflow#33009 (comment of 2024-04-02, TF 2.15.1): ~4 MiB more per 100 runs of a small
  model, steadily over 1,000 runs.

Pattern: the eager inference of a tiny model (`model(x, training=False)`, flat by itself: see
model_call_loop.py), plus an audit log: a small dict per request (id, latency in ms, top class) appended
to a list that nothing ever trims, a pattern of request logs / metrics histories kept "for later".

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): leak, ~266 B/iter (RSS),
linear: +266 / +266 B/iter RSS (first / second half), +6.9 MiB over 25,000 calls (+1.7 MiB at call
5,022); the C heap sees almost nothing (+9 / +9 B/iter, +0.2 MiB): small Python objects live in
pymalloc's own mmapped arenas, outside glibc's heap accounting. Each record is a 3-key dict (184 B), a
float (24 B), an int id (28 B) and a list slot (8 B, plus the list's over-allocation): ~250-266 B. No
automatic full collection ran (nothing here is cyclic).
"""

import itertools
import time

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 266
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


class RequestLogKept:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_classifier()
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")
        self.request_ids = itertools.count()
        self.request_log = []  # the bug: one record per request, never trimmed (a deque(maxlen=...) is not)

    def step(self):
        started = time.perf_counter()
        logits = self.model(self.x, training=False).numpy()
        self.request_log.append(
            {"id": next(self.request_ids), "ms": (time.perf_counter() - started) * 1e3,
             "label": int(logits.argmax())}
        )

    def close(self):
        self.model = self.request_log = None


def make():
    return RequestLogKept()
