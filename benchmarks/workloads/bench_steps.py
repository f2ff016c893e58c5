"""Workloads for the benchmarks: a calibrated ~1 ms pure-Python step, planted leaks, flat controls."""

from __future__ import annotations

import ctypes
import time

TARGET_STEP_S = 0.001


def _calibrate_spins(target_s: float) -> int:
    spins = 1000
    while True:
        started = time.perf_counter()
        _spin(spins)
        elapsed = time.perf_counter() - started
        if elapsed > 0.02:
            return max(1, int(spins * target_s / elapsed))
        spins *= 2


def _spin(count: int) -> int:
    total = 0
    for value in range(count):
        total += value * value
    return total


def calibrate_1ms_spins() -> int:
    """Calibrate once in the benchmark's parent, so every child runs the very same work."""
    return _calibrate_spins(TARGET_STEP_S)


def python_1ms(spins: int | None = None):
    """Pure-Python CPU work of about 1 ms per step (no sleep: sleep hides scheduling overhead)."""
    spins = spins or _calibrate_spins(TARGET_STEP_S)

    def step():
        _spin(spins)

    return step


def python_leak(bytes_per_step: int = 1024, pace_s: float = 0.002):
    """Python-held leak: a bytes object of the given size kept per step."""
    kept = []

    def step():
        kept.append(b"\x01" * bytes_per_step)
        time.sleep(pace_s)

    return step


_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]


def native_leak(bytes_per_step: int = 1024, pace_s: float = 0.002):
    """Native leak: malloc'd and touched through ctypes, never freed, invisible to Python's gc."""

    def step():
        address = _libc.malloc(bytes_per_step)
        _libc.memset(address, 1, bytes_per_step)  # touch the pages so RSS, not only VSZ, grows
        time.sleep(pace_s)

    return step


def python_flat(pace_s: float = 0.002):
    def step():
        scratch = [bytes(256) for _ in range(64)]
        del scratch
        time.sleep(pace_s)

    return step


def numpy_flat(pace_s: float = 0.002):
    import numpy as np

    rng = np.random.default_rng(0)

    def step():
        matrix = rng.standard_normal((256, 256))
        (matrix @ matrix).sum()
        time.sleep(pace_s)

    return step


def tf_finalized_flat(pace_s: float = 0.0):
    """A small finalized TF1 graph in one persistent session: must never be called a leak."""
    import numpy as np
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        images = tf.compat.v1.placeholder(tf.float32, [1, 64, 64, 3])
        kernel = tf.constant(np.random.default_rng(0).standard_normal((3, 3, 3, 16)).astype("float32"))
        output = tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(images, kernel, 1, "SAME")))
    graph.finalize()
    session = tf.compat.v1.Session(graph=graph)
    feed = np.ones((1, 64, 64, 3), dtype="float32")

    class Step:
        def step(self):
            session.run(output, {images: feed})
            if pace_s:
                time.sleep(pace_s)

        def evidence(self):
            return {"graph_ops": len(graph.get_operations())}

        def close(self):
            session.close()

    return Step()


def python_flat_fast():
    """~0.1 ms per step: lets a 100,000-iteration soak finish in well under a minute."""
    return python_flat(pace_s=0.0001)
