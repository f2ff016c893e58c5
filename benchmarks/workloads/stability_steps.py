"""Workloads with a known truth for benchmarks/verdict_stability.py: fast leaks, flats and plateaus.

Each function is a factory (as in bench_steps.py): called once in the soak's child, it returns the
step() to repeat. The truth of each is in its docstring and in TRUTH below, which the benchmark reads;
most steps take well under a millisecond, so many iterations fall between two parent samples and the
verdict has to come from the child's own iteration-aligned readings.
"""

from __future__ import annotations

import functools
import time

# What each factory does to memory per iteration, by construction (the benchmark's ground truth).
TRUTH = {
    "keep_4k_fast": "leak",
    "numpy_flat_fast": "flat",
    "bounded_sawtooth_fast": "plateau",
    "lru_fills_then_stops": "plateau",
    "linear_1k": "leak",
    "tf_flat_loop": "flat",
}
# The leaks' real cost per iteration (CPython 3.11, glibc malloc on x86_64): the object header from
# pymalloc (16-byte blocks) or the payload from malloc (chunk = request + 8, rounded up to 16), plus the
# 8-byte list slot (~9 B with the list's over-allocation). bytearray(4096): a 56-byte object (64-byte
# block) + a 4097-byte buffer (4112-byte chunk) + 8 = 4184 B. b"\x01" * 1000: one 1033-byte object
# (1056-byte chunk) + 8 = 1064 B. Literal numbers: the benchmark reads them without importing this file.
# The C heap series (mallinfo) sees only the malloc'd part: 4112 + 8 and 1056 + 8 (pymalloc's arenas are
# mmap'd outside malloc); RSS sees all of it.
TRUTH_BYTES_PER_ITER = {
    "keep_4k_fast": 4184,
    "linear_1k": 1064,
}


def keep_4k_fast():
    """Leak of 4184 B/iter: a bytearray(4096) kept per step, nothing else (a few microseconds per step,
    mostly the kernel's page faults for the new memory)."""
    kept = []

    def step():
        kept.append(bytearray(4096))

    return step


def numpy_flat_fast(size: int = 64):
    """Flat: a 64x64 float64 matmul per step (tens of microseconds), results dropped at once."""
    import numpy as np

    matrix = np.random.default_rng(0).standard_normal((size, size))

    def step():
        (matrix @ matrix).sum()

    return step


def bounded_sawtooth_fast(items_per_tooth: int = 300, item_bytes: int = 4096):
    """Plateau (a bounded sawtooth): a cache gains one bytearray(4096) per step and is cleared every 300
    steps, so memory climbs ~1.2 MiB and drops back, forever, with no net growth."""
    cache = []

    def step():
        cache.append(bytearray(item_bytes))
        if len(cache) >= items_per_tooth:
            cache.clear()

    return step


def lru_fills_then_stops(maxsize: int = 2000, value_bytes: int = 4096):
    """Plateau: an lru_cache(maxsize=2000) fed a new key per step, each value a ~4 KiB bytearray. Memory
    grows ~8.5 MB over the first 2000 steps, then each new entry evicts the oldest: bounded from there."""

    @functools.lru_cache(maxsize=maxsize)
    def load(key: int) -> bytearray:
        return bytearray(value_bytes)

    counter = iter(range(1 << 62))

    def step():
        load(next(counter))

    return step


def linear_1k(pace_s: float = 0.0002, payload_bytes: int = 1000):
    """Leak of 1064 B/iter: a 1000-byte bytes object kept per step, with a ~0.2 ms sleep as pace."""
    kept = []

    def step():
        # A variable size, not the literal 1000: the compiler folds b"\x01" * 1000 into one constant, and
        # the loop would keep the very same object (8 B/iter of list slots) instead of a new one per step.
        kept.append(b"\x01" * payload_bytes)
        time.sleep(pace_s)

    return step


def tf_flat_loop(width: int = 32):
    """Flat: a tiny Keras model inside a tf.function with a fixed input_signature, called on the same
    input tensor each step (one trace, no new graph, no retained outputs)."""
    import numpy as np
    import tensorflow as tf

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(width,)),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(8),
    ])

    @tf.function(input_signature=[tf.TensorSpec([1, width], tf.float32)])
    def infer(batch):
        return model(batch, training=False)

    batch = tf.constant(np.random.default_rng(0).standard_normal((1, width)).astype("float32"))

    class Step:
        def step(self):
            infer(batch).numpy()

        def evidence(self):
            return {"tracing_count": int(infer.experimental_get_tracing_count())}

        def close(self):
            pass

    return Step()
