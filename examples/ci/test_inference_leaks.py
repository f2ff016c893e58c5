"""Leak checks for CI with leakhunt's pytest plugin (active once leakhunt is installed).

    python -m pytest examples/ci/test_inference_leaks.py --leakhunt-reports reports/ci

Each check runs its workload in a fresh child process, exactly like `leakhunt soak`, and fails the test with
the verdict, its figures and the path to report.html.
"""

import numpy as np
import pytest


def make_keras_step():
    """Module level, so the child can import it: build once, return the per-call step."""
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input((32,)), tf.keras.layers.Dense(64), tf.keras.layers.Dense(8)])
    batch = np.ones((4, 32), dtype="float32")

    def step():
        model(batch, training=False)

    return step


def test_keras_inference_does_not_leak(leakhunt):
    result = leakhunt(make_keras_step, iterations=2000, max_bytes_per_iter=1024)
    assert result.latency_ms["p50"] is not None


@pytest.mark.leakhunt(iterations=2000, max_bytes_per_iter=1024, strict=True)
def test_preprocessing_step():
    """The marker form: this function is the factory; leakhunt soaks what it returns."""
    from PIL import Image

    image = Image.new("RGB", (640, 480))

    def step():
        np.asarray(image.resize((320, 240)))

    return step
