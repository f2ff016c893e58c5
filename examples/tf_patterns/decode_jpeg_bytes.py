"""No-leak control: eager `tf.io.decode_jpeg` of in-memory JPEG bytes, resize, model call, per request.

Reports:
- tensorflow/tensorflow#51083 (TF 2.5-2.9): reading and decoding JPEG files with `tf.io.read_file` in a
  loop "eats over 30 Gb memory" for 10,000 images; reading the same images again did not grow.
- tensorflow/tensorflow#14185 (TF 1.x): `tf.image.encode_jpeg` in a loop leaked (graph mode: a new op
  per call; eager was the advice).
- tensorflow/tfjs#6380 and #4758: RSS keeps rising with `tf.node.decodeImage` in a loop (the same
  suspicion in TensorFlow.js).

Pattern: an image service receiving JPEG bytes: `tf.io.decode_jpeg`, `convert_image_dtype`, `resize` to
32x32, then the tiny classifier, eagerly. The request bodies are 16 distinct JPEGs (encoded once at
start-up with `tf.io.encode_jpeg` from random images of four sizes), served round-robin: nothing is read
from disk or downloaded.

Truth on TF 2.21 / Keras 3.15.1, CPU (measure_truth.py, bare loop, 2026-12-05): flat: +70 / +6 B/iter RSS
(first / second half), +1 / +1 B/iter C heap, +0.8 MiB RSS / +0.0 MiB heap over 10,000 calls (+0.6 MiB
by call 1,000, +0.8 MiB from call 2,000 on, level); no automatic full collection ran. ~3-11 ms/call
(shared machine).
"""

import itertools

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


class DecodeJpegPerRequest:
    images_per_step = 1

    SIZES = ((48, 64), (64, 48), (96, 128), (120, 160))

    def __init__(self):
        self.model = tiny_classifier()
        rng = np.random.default_rng(0)
        self.bodies = [
            tf.io.encode_jpeg(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), quality=90).numpy()
            for _ in range(4)
            for h, w in self.SIZES
        ]
        self.requests = itertools.cycle(self.bodies)

    def step(self):
        image = tf.io.decode_jpeg(next(self.requests), channels=3)
        image = tf.image.convert_image_dtype(image, tf.float32)
        image = tf.image.resize(image, (32, 32))[tf.newaxis]
        self.model(image, training=False).numpy()

    def close(self):
        self.model = self.bodies = None


def make():
    return DecodeJpegPerRequest()
