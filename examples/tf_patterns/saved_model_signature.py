"""No-leak control: a SavedModel's `serving_default` signature called in a loop.

Reports:
- tensorflow/tensorflow#57601: a TF1-trained SavedModel used for prediction in TF 2.6 grows CPU memory
  until the script crashes (a detection model; its reporter also tried a frozen graph).
- tensorflow/tensorflow#45453: memory grows when `tf.saved_model.load` is called repeatedly (loading
  per call, not calling a loaded signature).
- tensorflow/tensorflow#58642 (MoviNet, TF 2.10): repeated calls of a loaded SavedModel grew memory until
  a crash; the maintainer suspected a retraced inner tf.function. An exported signature is one concrete
  function and cannot retrace.

Pattern: the factory exports a tiny Keras classifier with `model.export()` into a `tempfile.mkdtemp()`
folder, loads it back with `tf.saved_model.load`, and every step calls
`signatures["serving_default"](image=tf.constant(x))` and fetches the output, the way a TF Serving-like
Python service does. Loaded once, called many times.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-11-29): flat: +5 / +0 B/iter RSS
(first / second half), +0 / +0 B/iter C heap, +0.2 MiB RSS over 39,123 calls.
"""

import shutil
import tempfile

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


class SavedModelSignature:
    images_per_step = 1

    def __init__(self, batch: int = 1):
        self.folder = tempfile.mkdtemp(prefix="tf_patterns_savedmodel_")
        tiny_classifier().export(self.folder, format="tf_saved_model", verbose=False)
        self.loaded = tf.saved_model.load(self.folder)
        self.signature = self.loaded.signatures["serving_default"]
        self.input_name = next(iter(self.signature.structured_input_signature[1]))
        self.x = np.random.default_rng(0).standard_normal((batch, 32, 32, 3)).astype("float32")
        self.images_per_step = batch

    def step(self):
        outputs = self.signature(**{self.input_name: tf.constant(self.x)})
        for value in outputs.values():
            value.numpy()

    def close(self):
        self.signature = self.loaded = None
        shutil.rmtree(self.folder, ignore_errors=True)


def make(batch: int = 1):
    return SavedModelSignature(batch)
