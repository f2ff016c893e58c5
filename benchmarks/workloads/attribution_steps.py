"""Leaking steps whose leaking line is known, for the attribution benchmark (benchmarks/attribution.py).

Each factory's leaking line carries the comment `# LEAK` (the benchmark finds the expected line by it), so a
moved line cannot make the benchmark check the wrong one. The TensorFlow cases live in
examples/tf_patterns/ (their `# the bug` lines); these are the ones no pattern there covers.
"""

import ctypes

_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]


def python_list(size: int = 2048, scratch_items: int = 2000):
    """A request log that is never trimmed: `size` bytes of Python objects kept per call, around transient work."""
    log = []

    def step():
        scratch = [float(i) for i in range(scratch_items)]  # made and dropped within the call
        log.append(bytes(size))  # LEAK
        return sum(scratch)

    return step


def ctypes_malloc(size: int = 4096, scratch_bytes: int = 64 * 1024):
    """A C buffer malloc'd through ctypes per call and never freed (the pointer is dropped)."""

    def step():
        scratch = bytearray(scratch_bytes)  # made and dropped within the call
        address = _libc.malloc(size)  # LEAK
        ctypes.memset(address, 1, size)
        return len(scratch)

    return step


class VariablePerRequest:
    """A TF resource created per call: a tf.Variable of per-request state, kept in a dict keyed by request id
    that nothing ever evicts (the resource, its handle and its 16 KiB buffer stay alive)."""

    images_per_step = 1

    def __init__(self):
        import tensorflow as tf

        self.tf = tf
        self.state = {}
        self.counter = 0

    def step(self):
        self.counter += 1
        variable = self.tf.Variable(self.tf.fill((64, 64), float(self.counter)), name="request_state")  # LEAK
        self.state[self.counter] = variable

    def close(self):
        self.state.clear()


def tf_variable_per_request():
    return VariablePerRequest()
