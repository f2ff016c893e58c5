"""Leak: a `tf.data.Dataset` pipeline built and iterated on every call, feeding an eager model.

Reports:
- tensorflow/tensorflow#30448 (TF 1.14): calling `model.predict(x=dataset)` in a loop, with a dataset
  object, slows down quickly and memory "continues to climb"; a NumPy array does not.
- tensorflow/tensorflow#41395 (TF 2.2): "tf.data.Dataset memory leak": memory grows while iterating a
  dataset in `Model.fit()` or inside a `tf.function`.
- tensorflow/tensorflow#37653 (TF 2.1-2.7): memory leak with `tf.data.Dataset.from_generator`.

Pattern: per request, wrap the request's 4 images in `tf.data.Dataset.from_tensor_slices(x).batch(2)` and
run the tiny classifier eagerly on each batch (`model(batch, training=False)`), a common way to "reuse
the training input pipeline" at serving time.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): leak, ~57 KiB/iter (RSS)
/ ~0.95 KiB/iter (C heap in use): +56,052 / +58,102 B/iter RSS (first / second half), +960 / +927 B/iter
heap, +64 MiB RSS over 1,154 calls. Surprise: the heap *in use* grows by under 1 KiB per call, but the
glibc arena grows by ~57 KiB per call of free chunks (mallinfo2 fordblks), so RSS grows 60x faster than
the live data (most likely the ~1 KiB each pipeline leaves behind pins the pages the eager model call
freed). Iterating the per-call dataset without the model leaks the same ~0.9 KiB/iter of heap but barely
any RSS (+0.8 KiB/iter); building the dataset without iterating it: ~0.1 KiB/iter.
"""

import numpy as np
import tensorflow as tf

TRUTH = "leak"
TRUTH_BYTES_PER_ITER = 57000


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


class DatasetPerCall:
    images_per_step = 4

    def __init__(self, images: int = 4, batch: int = 2):
        self.model = tiny_classifier()
        self.x = np.random.default_rng(0).standard_normal((images, 32, 32, 3)).astype("float32")
        self.batch = batch
        self.images_per_step = images

    def step(self):
        dataset = tf.data.Dataset.from_tensor_slices(self.x).batch(self.batch)  # a new pipeline per call
        for batch in dataset:
            self.model(batch, training=False).numpy()

    def close(self):
        self.model = None


def make(images: int = 4, batch: int = 2):
    return DatasetPerCall(images, batch)
