"""Leak: a `tf.function` that is retraced on every call (a new Python scalar, or a new input shape).

Reports:
- tensorflow/tensorflow#124972 (open, TF 2.21): `@tf.function` called with inputs of varying shapes
  retraces for each new signature and every traced graph stays cached: unbounded growth, OOM in serving.
- tensorflow/tensorflow#31842: TF 2.0 training OOM when tf.function retraces excessively (variable
  sequence lengths / batch sizes).
- tensorflow/tensorflow#31175 and instadeepai/Mava#346: Python objects passed as tf.function arguments
  (a bound method, Python scalars) cause a retrace per call and memory that "keeps on increasing".

Pattern: serve a fully convolutional classifier through a `tf.function` without an input signature that
also takes a score threshold, and pass that threshold as a Python float that differs on every call
(`make()`, the default `vary="scalar"`): every call is a new trace and a new cached concrete function.
`make(vary="shape")` instead keeps the threshold fixed and feeds images whose size never repeats (height
cycles 16..63, width grows by one every 48 calls), the scenario of #124972; it leaks more per call during
its first ~2,000 calls because oneDNN also caches a primitive per new shape (see onednn_shape_cache.py),
so the default keeps one clean cause. `evidence()` reports the tf.function's tracing count (one more per
call in both modes).

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~318 KiB/iter (RSS)
/ ~274 KiB/iter (C heap): +325,007 / +325,358 B/iter RSS (first / second half), +280,254 / +280,598
B/iter heap, +484 MiB RSS over 1,562 calls; tracing_count 50 -> 1,612 (one trace per call).
`vary="shape"` measured +437 KiB/iter RSS / +375 KiB/iter heap over its first 1,205 calls (oneDNN's
per-shape cache on top, which stops growing after ~2,400 shapes).
"""

import itertools

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 325000


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


class RetraceEveryCall:
    images_per_step = 1

    def __init__(self, vary: str = "scalar"):
        if vary not in ("shape", "scalar"):
            raise ValueError("vary must be 'shape' or 'scalar'")
        self.vary = vary
        self.model = fully_convolutional_classifier()
        model = self.model

        @tf.function  # no input_signature, no reduce_retracing: every new shape / Python value retraces
        def serve(images, threshold):
            logits = model(images, training=False)
            return tf.cast(tf.nn.softmax(logits) > threshold, tf.int32)

        self.serve = serve
        self.rng = np.random.default_rng(0)
        self.counter = itertools.count()
        self.fixed = tf.constant(self.rng.standard_normal((1, 32, 32, 3)).astype("float32"))

    def step(self):
        i = next(self.counter)
        if self.vary == "shape":
            height, width = 16 + i % 48, 16 + i // 48  # never the same (height, width) twice
            images = tf.constant(self.rng.standard_normal((1, height, width, 3)).astype("float32"))
            self.serve(images, 0.5).numpy()
        else:
            self.serve(self.fixed, 0.5 + i * 1e-7).numpy()  # a new Python float: a new trace

    def evidence(self):
        return {"tracing_count": int(self.serve.experimental_get_tracing_count())}

    def close(self):
        self.serve = self.model = None


def make(vary: str = "scalar"):
    return RetraceEveryCall(vary)
