"""Four short workloads for benchmarks/ray_scaling.py: two that sleep through their step (they leave the CPU
free, like a model waiting on a GPU) and two that keep a core busy (like TensorFlow on CPU), each flat or leaking."""

from __future__ import annotations

import time

STEP_S = 0.002
LEAK_BYTES = 8 * 1024
SPINS = 40_000  # about 2 ms of pure Python on the project's 2-core machine


def _spin(count: int) -> int:
    total = 0
    for value in range(count):
        total += value * value
    return total


def sleep_flat():
    def step():
        scratch = bytearray(LEAK_BYTES)
        del scratch
        time.sleep(STEP_S)

    return step


def sleep_leak():
    kept = []

    def step():
        kept.append(bytearray(LEAK_BYTES))
        time.sleep(STEP_S)

    return step


def cpu_flat():
    def step():
        scratch = bytearray(LEAK_BYTES)
        del scratch
        _spin(SPINS)

    return step


def cpu_leak():
    kept = []

    def step():
        kept.append(bytearray(LEAK_BYTES))
        _spin(SPINS)

    return step
