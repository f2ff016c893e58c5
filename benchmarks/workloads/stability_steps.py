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
    "sawtooth_640_fast": "plateau",
    "python_256b": "leak",
    "python_64b": "leak",
    "cycle_garbage_fast": "plateau",
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
    "python_256b": 264,
    "python_64b": 72,
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


def sawtooth_640_fast(tooth_steps: int = 640, tooth_bytes: int = 40 * 1024 * 1024):
    """Plateau (a bounded sawtooth of wide teeth): a 40 MiB buffer filled over 640 steps, then cleared (tens of
    microseconds a step). Over 20000 iterations the child reads every ~50 steps: ~13 readings a tooth, which a
    binned level cannot resolve; its envelope can."""
    chunks: list[bytearray] = []
    chunk_bytes = tooth_bytes // tooth_steps

    def step():
        if len(chunks) >= tooth_steps - 1:
            chunks.clear()
        else:
            chunks.append(bytearray(chunk_bytes))

    return step


def python_256b(payload_bytes: int = 215):
    """Leak of ~256 B/iter held by Python only: a bytes object of 248 B (a 256-byte pymalloc block) kept per step,
    plus its 8-byte list slot. Under RSS's 2 MiB floor at 5000 iterations; one live Python block per step."""
    kept = []

    def step():
        kept.append(bytes(payload_bytes) + b"")  # a new object each step, not a folded constant

    return step


def python_64b(payload_bytes: int = 31):
    """Leak of ~72 B/iter held by Python only: a 64-byte bytes object kept per step, plus its list slot."""
    kept = []

    def step():
        kept.append(bytes(payload_bytes) + b"")

    return step


def cycle_garbage_fast(alive: int = 300, payload_bytes: int = 2048):
    """Plateau: each step builds an object in a reference cycle with a 2 KiB payload and keeps the last 300 alive,
    so they outlive the young collections before they are dropped: garbage only a collection of an older
    generation frees (what a Keras clone per call leaves, on a smaller scale). Memory climbs and falls back:
    Python's blocks swing by ~15k and the heap by ~10 MB, bounded by the collector."""
    import collections

    recent: collections.deque = collections.deque(maxlen=alive)

    def step() -> None:
        node: dict = {"payload": bytearray(payload_bytes)}
        node["self"] = node
        recent.append(node)
        for _ in range(50):  # allocations, so young collections run while the node is alive
            _ = [None] * 4

    return step
