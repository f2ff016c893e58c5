"""Sub-microsecond and sub-millisecond steps for the in-child readings' tests (no TensorFlow, no sleep)."""

import ctypes

import numpy as np

_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]


def keep_4k():
    """Keeps 4 KiB per step; the step itself takes well under a microsecond of work."""
    kept = []

    def step():
        kept.append(bytearray(4096))

    return step


def native_256():
    """A native leak below a page: 256 bytes malloc'd and touched per step, never freed."""

    def step():
        address = _libc.malloc(256)
        ctypes.memset(address, 1, 256)

    return step


def numpy_flat():
    """A flat sub-millisecond numpy step: allocates, computes and frees."""
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((64, 64))

    def step():
        (matrix @ matrix).sum()

    return step


def bounded_cache():
    """A cache that empties itself every 300 steps: a bounded sawtooth with sub-ms steps."""
    cache = []

    def step():
        cache.append(bytearray(16 * 1024))
        if len(cache) >= 300:
            cache.clear()

    return step


def paced_leak_16k():
    """16 KiB kept per ~1 ms step: a strong leak the parent can watch settle."""
    import time

    kept = []

    def step():
        kept.append(bytearray(16 * 1024))
        time.sleep(0.001)

    return step


def paced_flat():
    """Allocate and free per ~1 ms step: flat."""
    import time

    def step():
        scratch = bytearray(64 * 1024)
        del scratch
        time.sleep(0.001)

    return step


def raise_at_300():
    import time

    count = {"steps": 0}

    def step():
        count["steps"] += 1
        if count["steps"] > 300:
            raise ValueError("boom at 300")
        time.sleep(0.001)

    return step


def noop():
    """A step that does nothing: millions of steps a second, the most a run folder must hold per second."""

    def step():
        return None

    return step


def sigkill_after_2s():
    """Does nothing for 2 s of loop (past the first steps' rows, a block or two written), then SIGKILLs itself."""
    import os
    import signal
    import time

    deadline = []

    def step():
        if not deadline:
            deadline.append(time.monotonic() + 2.0)
        elif time.monotonic() > deadline[0]:
            os.kill(os.getpid(), signal.SIGKILL)

    return step
