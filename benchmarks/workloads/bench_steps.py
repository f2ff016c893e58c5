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


def noop():
    """A step that does nothing: the floor of what users bring (a cache hit), the most steps per second."""

    def step():
        return None

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


# --- exactly planted leaks: the memory kept per step is the nominal size, allocator headers included ----
# A payload of N bytes costs more than N: CPython adds a 33-byte bytes header and an 8-byte list slot,
# glibc rounds a malloc(N) chunk up to N + 8 (its size field) in 16-byte steps. The leaks below size their
# request so the memory actually kept per step is `bytes_per_step` (a multiple of 16, at least 32), so a
# measured slope can be compared with the planted one directly.
_MALLOC_CHUNK_OVERHEAD_BYTES = 8  # glibc's size field in front of every chunk (x86_64)
_PYMALLOC_MAX_BYTES = 512  # larger objects go to malloc, smaller ones to pymalloc's 16-byte-aligned blocks
_BYTES_HEADER_BYTES = 33  # sys.getsizeof(b"") on 64-bit CPython 3.8+


def _check_exact_size(bytes_per_step: int) -> None:
    if bytes_per_step < 32 or bytes_per_step % 16:
        raise ValueError(f"an exact leak needs a multiple of 16 bytes, at least 32; got {bytes_per_step}")


def python_exact_leak(bytes_per_step: int = 1024, pace_s: float = 0.0, slots: int = 100_000):
    """Python-held leak of exactly `bytes_per_step` per step: one bytes object of that allocated size.

    The objects go into a list allocated up front with `slots` entries, so no list slot (and no list
    over-allocation) adds to the planted size; past `slots` steps it falls back to appending.
    """
    _check_exact_size(bytes_per_step)
    total = bytes_per_step if bytes_per_step <= _PYMALLOC_MAX_BYTES else (
        bytes_per_step - _MALLOC_CHUNK_OVERHEAD_BYTES)
    payload = total - _BYTES_HEADER_BYTES
    kept = [None] * slots
    position = [0]

    def step():
        index = position[0]
        value = b"\x01" * payload  # a variable size: never folded into one shared constant
        if index < slots:
            kept[index] = value
        else:
            kept.append(value)
        position[0] = index + 1
        if pace_s:
            time.sleep(pace_s)

    return step


def native_exact_leak(bytes_per_step: int = 1024, pace_s: float = 0.0):
    """Native leak of exactly `bytes_per_step` per step: malloc'd (chunk size = bytes_per_step), touched,
    never freed, invisible to Python's gc."""
    _check_exact_size(bytes_per_step)
    request = bytes_per_step - _MALLOC_CHUNK_OVERHEAD_BYTES

    def step():
        address = _libc.malloc(request)
        _libc.memset(address, 1, request)  # touch the pages so RSS, not only VSZ, grows
        if pace_s:
            time.sleep(pace_s)

    return step


# --- flat controls from TensorFlow inference code: each must never be called a leak --------------------
def native_malloc_free_flat(bytes_per_step: int = 256, pace_s: float = 0.0):
    """malloc + touch + free of 256 B per step: native churn with nothing kept."""
    _libc.free.argtypes = [ctypes.c_void_p]

    def step():
        address = _libc.malloc(bytes_per_step)
        _libc.memset(address, 1, bytes_per_step)
        _libc.free(address)
        if pace_s:
            time.sleep(pace_s)

    return step


def _tiny_keras_model(width: int):
    import tensorflow as tf

    return tf.keras.Sequential([
        tf.keras.Input(shape=(width,)),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(4),
    ])


def keras_call_flat(pace_s: float = 0.0, width: int = 16):
    """A tiny Keras model called eagerly, `model(x, training=False)`, on the same input every step."""
    import numpy as np
    import tensorflow as tf

    model = _tiny_keras_model(width)
    batch = tf.constant(np.random.default_rng(0).standard_normal((1, width)).astype("float32"))

    def step():
        model(batch, training=False).numpy()
        if pace_s:
            time.sleep(pace_s)

    return step


def saved_model_flat(pace_s: float = 0.0, width: int = 16):
    """A tf.Module with one tf.function, saved to a temporary folder, loaded, its serving signature
    called every step (the SavedModel serving path)."""
    import shutil
    import tempfile

    import numpy as np
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            rng = np.random.default_rng(0)
            self.kernel = tf.Variable(rng.standard_normal((width, 4)).astype("float32"))
            self.bias = tf.Variable(np.zeros(4, dtype="float32"))

        @tf.function(input_signature=[tf.TensorSpec([None, width], tf.float32, name="x")])
        def serve(self, x):
            return {"y": tf.nn.relu(tf.matmul(x, self.kernel) + self.bias)}

    folder = tempfile.mkdtemp(prefix="leakhunt-bench-savedmodel-")
    module = Tiny()
    tf.saved_model.save(module, folder, signatures={"serving_default": module.serve})
    del module
    loaded = tf.saved_model.load(folder)
    signature = loaded.signatures["serving_default"]
    batch = tf.constant(np.random.default_rng(1).standard_normal((1, width)).astype("float32"))

    class Step:
        def step(self):
            signature(x=batch)["y"].numpy()
            if pace_s:
                time.sleep(pace_s)

        def close(self):
            shutil.rmtree(folder, ignore_errors=True)

    return Step()


def tf_constant_flat(pace_s: float = 0.0):
    """tf.constant of a 64x64 array in a loop, converted back to numpy: eager tensors made and dropped."""
    import numpy as np
    import tensorflow as tf

    array = np.random.default_rng(0).standard_normal((64, 64)).astype("float32")

    def step():
        tf.constant(array).numpy()
        if pace_s:
            time.sleep(pace_s)

    return step
