"""A machine-speed reference: a fixed, tiny CPU-bound kernel the child times now and then.

The kernel's work never changes (no calibration), so its duration over a run tells how fast the machine
itself was at each point: when a neighbour starts hogging the cores, the reference slows down with the
workload, and a workload slowdown that the reference shares is the machine's, not the workload's.
It is timed on a time budget (REFERENCE_TIME_BUDGET of the loop), between two steps.
"""

from __future__ import annotations

import time

import numpy as np

# Share of the loop's wall time the reference may take. Its kernel costs ~0.2-0.4 ms on a 2020s core, so
# a 50 ms model step is followed by a reference every ~10 steps, a 1 ms step every ~60.
REFERENCE_TIME_BUDGET = 0.005
# Fixed work: a pure-Python loop (interpreter speed, like a workload's Python glue) plus a small float32
# matmul (vector units and caches, like a model's kernels). Changing these changes every run's reference.
_PYTHON_LOOP_COUNT = 5000
_MATRIX_SIZE = 48
_MATMUL_REPEATS = 8


class MachineSpeedReference:
    """Times the fixed kernel; `due(now)` says whether the budget allows one now."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._matrix = rng.standard_normal((_MATRIX_SIZE, _MATRIX_SIZE)).astype(np.float32)
        self._next_due_s = 0.0

    def _kernel(self) -> float:
        total = 0
        for value in range(_PYTHON_LOOP_COUNT):
            total += value * value
        product = self._matrix
        for _ in range(_MATMUL_REPEATS):
            product = product @ self._matrix
            product *= 0.01
        return total + float(product[0, 0])

    def due(self, now_s: float) -> bool:
        return now_s >= self._next_due_s

    def measure_ms(self) -> float:
        """Run the kernel once; returns its duration in ms and schedules the next one on the budget."""
        started_s = time.perf_counter()
        self._kernel()
        elapsed_s = time.perf_counter() - started_s
        self._next_due_s = time.monotonic() + elapsed_s / REFERENCE_TIME_BUDGET
        return elapsed_s * 1e3
