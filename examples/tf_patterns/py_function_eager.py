"""Leak: an eager serving step that calls `tf.py_function` (a Python post-processor) on every request.

Reports:
- tensorflow/tensorflow#35010 (TF 2.0, eager): a custom Keras layer calling `tf.py_function` in `call`;
  memory grows linearly with the number of calls.
- tensorflow/tensorflow#35822 (TF 1.14): `tf.py_function` in eager mode leaks (closed as a duplicate of
  #35010).
- tensorflow/tensorflow#51839 (TF 2.6): "memory leak in tf.py_function"; a later comment points at
  `graph._py_funcs_used_in_graph`, which keeps every wrapped Python function alive with its graph.

Pattern: the eager step of a small service: a model call, then a `tf.py_function` that runs a Python
post-processor (top-3 class labels as a string) on the logits, then `.numpy()`. The wrapped function is
the same Python function every call; no tf.function, no tf.data. Compare py_function_step.py, the
same step inside a tf.function (flat).

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): leak, ~37 KiB/iter (RSS
and C heap alike), linear: +38,229 / +38,155 B/iter RSS (first / second half), +37,385 / +37,366
B/iter heap, +364.5 MiB RSS / +356.4 MiB heap over 10,000 calls (+36.8 MiB per 1,000 calls, to the
end); the one automatic full collection (call 1,402) freed nothing. The report of 2019 still
reproduces on TF 2.21. In eager mode every `tf.py_function` call wraps the Python function anew,
registers the wrapper under a new token and appends it to the global default graph's
`_py_funcs_used_in_graph` list, which lives as long as the process (script_ops.py; checked: 1,100
wrappers in it after 1,100 eager calls); the op, whose token is an attribute, is then a new kernel each
call, which most likely accounts for the ~37 KiB of native heap per call. Wrapped in a tf.function
(py_function_step.py) the same step is flat.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 38000

LABELS = [f"class_{k}" for k in range(10)]


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


def top3_labels(logits):
    order = np.argsort(-logits.numpy()[0])[:3]
    return ",".join(LABELS[k] for k in order)


class EagerPyFunctionStep:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_classifier()
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")

    def step(self):
        logits = self.model(self.x, training=False)
        tf.py_function(top3_labels, [logits], tf.string).numpy()

    def close(self):
        self.model = None


def make():
    return EagerPyFunctionStep()
