"""No-leak control: a `tf.py_function` post-processor inside a `tf.function` traced once, per request.

Reports:
- tensorflow/tensorflow#51839 (TF 2.6): "memory leak in tf.py_function"; a later comment points at
  `graph._py_funcs_used_in_graph`, which keeps every wrapped Python function alive with its graph.
- tensorflow/tensorflow#61344 (TF 2.13): "Unbounded memory leak when using tf.py_function" in a
  `tf.data` map; the reporter adds that py_function "causes memory leaks in all kinds of places".
- tensorflow/tensorflow#35010 (TF 2.0): py_function in a Keras layer's `call`, eagerly, grows linearly;
  that eager form still leaks on TF 2.21 (py_function_eager.py).

Pattern: the serving step of py_function_eager.py, with the model call and the `tf.py_function`
post-processor (top-3 class labels as a string) wrapped in one `tf.function` with an input signature: it
is traced once, so the py_function op, its registry token and its kernel exist once; each request runs
the traced graph and `.numpy()` on the label string. `evidence()` reports the tracing count.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): flat: +37 / +4 B/iter RSS
(first / second half), +1 / +0 B/iter C heap, +0.3 MiB RSS / +0.0 MiB heap over 10,000 calls (+0.2 MiB
by call 1,000, +0.3 from call 5,000 on); tracing_count stays 1; no automatic full collection ran. The
same step called eagerly leaks ~37 KiB per call. ~1.3 ms/call.
"""

import numpy as np
import tensorflow as tf

TRUTH = "flat"
TRUTH_BYTES_PER_ITER = 0

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


class PyFunctionInTfFunction:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_classifier()
        model = self.model

        @tf.function(input_signature=[tf.TensorSpec([1, 32, 32, 3], tf.float32)])
        def serve(images):
            logits = model(images, training=False)
            return tf.py_function(top3_labels, [logits], tf.string)

        self.serve = serve
        self.x = tf.constant(np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32"))

    def step(self):
        self.serve(self.x).numpy()

    def evidence(self):
        return {"tracing_count": int(self.serve.experimental_get_tracing_count())}

    def close(self):
        self.serve = self.model = None


def make():
    return PyFunctionInTfFunction()
