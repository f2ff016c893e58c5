"""No-leak control: eager preprocessing with `tf.constant` and small ops in a loop.

Reports:
- tensorflow/tensorflow#68196 (open, TF 2.16.1): "Memory leak from using tf.constant in loop": creating
  a `tf.constant` (or `tf.random.uniform`) in a plain Python loop grows RSS; the reporter notes that
  upgrading to 2.15 had fixed similar reports for some people and that it seemed back in 2.16.
- tensorflow/tensorflow#19385 (TF 1.8 eager): RSS grows when a small conv layer is called eagerly in a
  loop on a constant input.

Pattern: the per-request preprocessing of an image service, eagerly: `tf.constant` from a uint8 NumPy
image, `tf.image.convert_image_dtype`, `tf.image.resize` to 32x32, per-image standardisation, and
`.numpy()` to hand the result on. No model, no tf.function, no graph.

Truth on TF 2.21, CPU (measure_truth.py, bare loop, 2026-11-29): flat: +45 / +3 B/iter RSS (first /
second half), +0 / +0 B/iter C heap, +0.5 MiB RSS over 10,760 calls (and +156 KiB once, then flat over
100,000 bare `tf.constant(5.0)` calls): the leak of #68196 does not reproduce on TF 2.21.
"""

import numpy as np
import tensorflow as tf

TRUTH = "flat"
TRUTH_BYTES_PER_ITER = 0


class EagerPreprocessing:
    images_per_step = 1

    def __init__(self, height: int = 48, width: int = 64):
        rng = np.random.default_rng(0)
        self.image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)

    def step(self):
        image = tf.constant(self.image)
        image = tf.image.convert_image_dtype(image, tf.float32)
        image = tf.image.resize(image, (32, 32))
        image = tf.image.per_image_standardization(image)
        image.numpy()

    def close(self):
        self.image = None


def make(height: int = 48, width: int = 64):
    return EagerPreprocessing(height, width)
