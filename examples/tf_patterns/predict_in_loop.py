"""Leak (slow, under a sawtooth): `model.predict()` on one small batch, called in a loop.

Reports:
- tensorflow/tensorflow#33009: a Dense(32) model's `predict()` in a loop on dummy input grows memory
  without bound on TF 2.0 (CPU and GPU), not on 1.14.
- tensorflow/tensorflow#44711 and keras-team/keras#13118: the same on TF 2.3+, "repeatedly calling
  model.predict(...) results in memory leak"; the workaround given there is `model(x, training=False)`.
- tensorflow/tensorflow#33030 (comment of 2022-12-26): heavy leak with `predict()` many times a second on
  TF 2.11; Keras' docs say predict() is not meant for loops over small inputs.

Pattern: a tiny Keras model built once, then `model.predict(x, verbose=0)` on a (1, 32, 32, 3) batch
every step, as a naive serving loop would do.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): still leaks, slowly,
under a large sawtooth: leak, ~1.5 KiB/iter (RSS) / ~0.85 KiB/iter (C heap) in the second half of 6,000
calls (+6,918 / +1,498 B/iter RSS first / second half, +2,457 / +845 B/iter heap; +26.6 MiB RSS, +10.3
MiB heap in all). Each predict() leaves ~11 KiB of cyclic garbage that only Python's full (generation 2)
collection frees, every ~1,460 calls here, so the heap swings by ~15-20 MiB; but each trough is higher
than the one before: the heap right after each collection (calls ~1,260 / 2,740 / 4,200 / 5,660) was
+0.9, +2.9, +5.0, +5.7 MiB and the RSS troughs +18.3, +22.6, +24.5, +26.3 MiB, i.e. ~1.3 KiB/call of RSS
over the last two cycles. A 3,000-call run gave +14,478 / +4,140 B/iter RSS and +4,138 / +2,509 B/iter
heap. The leak reported for TF 2.0-2.11 (#33009: >10 GB in 10 minutes) is far smaller with Keras 3, but
not gone; `model(x, training=False)` (model_call_loop.py) is flat.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 1500
TRUTH_ITERATIONS = 6000  # four gc cycles: the rising troughs need that many calls to show
BENCH_ITERATIONS = 3000  # two cycles: enough to see the troughs rise, at half the time


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


class PredictInLoop:
    images_per_step = 1

    def __init__(self, batch: int = 1):
        self.model = tiny_classifier()
        self.x = np.random.default_rng(0).standard_normal((batch, 32, 32, 3)).astype("float32")
        self.images_per_step = batch

    def step(self):
        self.model.predict(self.x, verbose=0)

    def close(self):
        self.model = None


def make(batch: int = 1):
    return PredictInLoop(batch)
