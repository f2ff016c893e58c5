"""Plateau (garbage, not a leak): a request handler that clones the served Keras model for every call.

Reports:
- tensorflow/tensorflow#47673 (TF 2.3.1): a Flask app clones its model per request
  (`clone_model(model)`, `build()`, `set_weights(model.get_weights())`); RAM grows with each request.
- tensorflow/tensorflow#45453 (comment of 2021-03-08): the same reporter, the same clone-per-request leak.
- keras-team/keras#12956: `clone_model()` and `set_weights()` in a loop become slower and slower.

Pattern: a tiny classifier built once; every request clones it, copies the weights into the clone and runs
one eager inference with the clone, which is then dropped.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05, 16,000 calls after 50
warm-up calls): plateau: garbage in reference cycles, bounded. RSS climbs to +11.4 MiB by call 1,200 and
+12.6 MiB by 1,600 (first half +1,056 B/iter, nearly all of it before the first full collection), then
stays between +12.6 and +15.9 MiB to call 16,000 (second half -16 B/iter; +14.3 MiB at the end). The C
heap is a sawtooth between +0.0 and +2.3 MiB (+51 / -20 B/iter; +1.1 MiB at the end). gc.callbacks:
Python's automatic generation-2 collection ran every ~1,393 calls (calls 1,519, 2,912, ... 15,449: 11
after the first at 114), each freeing 75,353 objects (~54 per call: every clone sits in reference
cycles), and the heap right after each was back at the warm-up level (-0.0 MiB) while RSS stayed at
+15.0..+15.8 MiB (the freed objects' memory is reused, not returned). A heap-only or short run sees
+1.6 KiB/iter of "growth" during each cycle. ~14 ms/call quiet, ~47 ms/call on the loaded machine.
"""

import numpy as np
import tensorflow as tf

TRUTH = "plateau"
TRUTH_BYTES_PER_ITER = 0
TRUTH_ITERATIONS = 16000  # ten generation-2 cycles: the level must be seen well past the first collection
BENCH_ITERATIONS = 8000  # the run length issue 21 judges leakhunt at (~5 collections)


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


class ClonePerRequest:
    images_per_step = 1

    def __init__(self):
        self.model = tiny_classifier()
        self.x = np.random.default_rng(0).standard_normal((1, 32, 32, 3)).astype("float32")

    def step(self):
        # The reporter's handler: a private copy of the model per request (no shared state between requests).
        clone = tf.keras.models.clone_model(self.model)
        clone.set_weights(self.model.get_weights())
        clone(self.x, training=False).numpy()

    def close(self):
        self.model = None


def make():
    return ClonePerRequest()
