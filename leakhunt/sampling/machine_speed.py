"""A machine-speed reference: two fixed, tiny kernels the child times now and then, one CPU-bound (compute)
and one that streams memory.

The kernels' work never changes (no calibration), so their durations over a run tell how fast the machine
itself was at each point: when a neighbour starts hogging the cores, the reference slows down with the
workload, and a workload slowdown that the reference shares is the machine's, not the workload's. The
compute kernel stays in the core's registers and caches, so it misses a neighbour that takes memory
bandwidth and the shared cache; the memory kernel reads a buffer larger than a core's private caches, one
value per cache line, and slows down with them.
Both are timed on one time budget (REFERENCE_TIME_BUDGET of the loop), between two steps. With them the
reading takes the step thread's cumulative run-queue wait (Linux schedstat `run_delay`): the time it was
ready to run but waited for a CPU, which no short kernel sees (it slips between a neighbour's time slices),
and every thread's CPU time and wait summed (sampling/thread_waits.py: a multi-threaded step's workers wait
where its step thread only blocks on them).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from leakhunt.sampling.thread_waits import ThreadWaits

# Share of the loop's wall time the reference may take. Its kernel costs ~0.2-0.4 ms on a 2020s core, so
# a 50 ms model step is followed by a reference every ~10 steps, a 1 ms step every ~60.
REFERENCE_TIME_BUDGET = 0.005
# Fixed work: a pure-Python loop (interpreter speed, like a workload's Python glue) plus a small float32
# matmul (vector units and caches, like a model's kernels). Changing these changes every run's reference.
_PYTHON_LOOP_COUNT = 5000
_MATRIX_SIZE = 48
_MATMUL_REPEATS = 8
# The memory kernel: one float32 per 64-byte line of an 8 MiB buffer (4x a core's 2 MiB L2 on the largest
# hosts seen), i.e. 8 MiB of line traffic for ~0.3 ms of work. The buffer is allocated (and touched) once,
# when the child builds its readers, so the readings' RSS includes it from the first one.
_MEMORY_BUFFER_BYTES = 8 * 2**20
_MEMORY_STRIDE_FLOATS = 16
# The calling thread's scheduler statistics: "<ns on a CPU> <ns waiting on a run queue> <time slices>".
_SCHEDSTAT_PATH = "/proc/thread-self/schedstat"


def _open_schedstat() -> int | None:
    """A descriptor on the calling thread's schedstat (bound to that thread), or None where there is none."""
    try:
        return os.open(_SCHEDSTAT_PATH, os.O_RDONLY)
    except OSError:
        return None  # not Linux, or a kernel without schedstats: the wait is simply not recorded


@dataclass(frozen=True)
class ReferenceReading:
    """One reading of the reference: both kernels' durations and the scheduler's counters right after."""

    compute_ms: float
    memory_ms: float
    step_thread_wait_s: float | None  # the step thread's cumulative run-queue wait
    threads_cpu_s: float | None  # all threads' cumulative CPU time (schedstat, as the waits)
    threads_wait_s: float | None  # all threads' cumulative run-queue wait


class MachineSpeedReference:
    """Times the fixed kernels; `due(now)` says whether the budget allows a reading now."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._matrix = rng.standard_normal((_MATRIX_SIZE, _MATRIX_SIZE)).astype(np.float32)
        self._memory = np.ones(_MEMORY_BUFFER_BYTES // 4, dtype=np.float32)
        self._next_due_s = 0.0
        # Opened by the thread that runs the steps (the child builds its readers there).
        self._schedstat = _open_schedstat()
        self._thread_waits = ThreadWaits()

    def _kernel(self) -> float:
        total = 0
        for value in range(_PYTHON_LOOP_COUNT):
            total += value * value
        product = self._matrix
        for _ in range(_MATMUL_REPEATS):
            product = product @ self._matrix
            product *= 0.01
        return total + float(product[0, 0])

    def _memory_kernel(self) -> float:
        return float(self._memory[::_MEMORY_STRIDE_FLOATS].sum())

    def runqueue_wait_s(self) -> float | None:
        """Seconds the step thread has waited for a CPU so far (None where the kernel does not say)."""
        if self._schedstat is None:
            return None
        try:
            return int(os.pread(self._schedstat, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return None

    def close(self) -> None:
        if self._schedstat is not None:
            os.close(self._schedstat)
            self._schedstat = None

    def due(self, now_s: float) -> bool:
        return now_s >= self._next_due_s

    def measure(self) -> ReferenceReading:
        """Run both kernels once and read the scheduler's counters; schedules the next reading on the budget
        (the kernels' and the counters' time count against it)."""
        started_s = time.perf_counter()
        self._kernel()
        compute_done_s = time.perf_counter()
        self._memory_kernel()
        kernels_done_s = time.perf_counter()
        step_thread_wait_s = self.runqueue_wait_s()
        threads = self._thread_waits.read() if self._thread_waits.available else None
        finished_s = time.perf_counter()
        self._next_due_s = time.monotonic() + (finished_s - started_s) / REFERENCE_TIME_BUDGET
        return ReferenceReading((compute_done_s - started_s) * 1e3, (kernels_done_s - compute_done_s) * 1e3,
                                step_thread_wait_s, None if threads is None else threads[0],
                                None if threads is None else threads[1])
