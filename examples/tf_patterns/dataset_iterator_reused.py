"""No-leak control: one `tf.data` iterator created once and advanced with `next()` for every request.

Reports:
- tensorflow/tensorflow#27414 (TF 1.10): a `tf.data` iterator re-initialised per batch of files does
  not release memory.
- tensorflow/tensorflow#35084 and #61344: memory grows while iterating a `tf.data.Dataset` whose map
  uses `tf.py_function` (TF 2.0, TF 2.13).
- tensorflow/tensorflow#23924: RSS grows continuously while iterating a pipeline with `unbatch()`.

Pattern: the fix for dataset_per_call.py: a pipeline built once over a fixed pool of 256 images
(`from_tensor_slices -> map(normalise) -> batch(2) -> repeat() -> prefetch(2)`), one Python iterator kept,
and each request takes the next batch with `next(iterator)` and runs the tiny model on it eagerly.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): flat: +150 / +8 B/iter RSS
(first / second half), +18 / -6 B/iter C heap, +1.0 MiB RSS / +0.1 MiB heap over 10,000 calls (+0.5 MiB
by call 1,000, +0.9 by 2,000, then level within 0.1 MiB); no automatic full collection ran. Building a
pipeline per call instead (dataset_per_call.py) leaks ~57 KiB/call.
"""

import numpy as np
import tensorflow as tf

TRUTH = "flat"
TRUTH_BYTES_PER_ITER = 0


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


class ReusedIterator:
    images_per_step = 2

    def __init__(self):
        self.model = tiny_classifier()
        pool = np.random.default_rng(0).integers(0, 256, (256, 32, 32, 3), dtype=np.uint8)
        dataset = (
            tf.data.Dataset.from_tensor_slices(pool)
            .map(lambda image: tf.cast(image, tf.float32) / 255.0)
            .batch(2)
            .repeat()
            .prefetch(2)
        )
        self.iterator = iter(dataset)

    def step(self):
        self.model(next(self.iterator), training=False).numpy()

    def close(self):
        self.model = self.iterator = None


def make():
    return ReusedIterator()
