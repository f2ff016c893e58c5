"""Every thread's CPU time and run-queue wait, summed over the child's threads.

The step thread's own run-queue wait (sampling/machine_speed.py) tells how long it was crowded off a CPU,
but a multi-threaded step (TensorFlow's intra- and inter-op pools) mostly *blocks* on its workers while they
run: when a neighbour takes the cores it is the workers that wait, and the step thread's wait stays near
zero. Summed over all threads, the wait against the CPU time tells how crowded the whole child was: a step
made slower by its own code (more work on one thread) keeps that fraction, a busier machine raises it.

Linux keeps the counters per thread (`/proc/self/task/<tid>/schedstat`: ns on a CPU, ns waiting on a run
queue, time slices). A thread that exits takes its counters with it, so the totals are accumulated from each
thread's increments since the previous reading: they only grow, and an exited thread loses what it did after
the last reading that saw it; a thread that lived entirely between two readings is not counted at all. Both
counters come from the same threads, so their ratio (the share of runnable time spent waiting) describes the
threads that live across readings: TensorFlow's pools and the step thread.
"""

from __future__ import annotations

import os

_TASKS_PATH = "/proc/self/task"


def _read_thread(thread_id: str) -> tuple[int, int] | None:
    """(ns on a CPU, ns waiting for one) of one thread, None when it has gone or the kernel does not say."""
    try:
        with open(f"{_TASKS_PATH}/{thread_id}/schedstat", "rb") as handle:
            fields = handle.read(128).split()
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None


class ThreadWaits:
    """Cumulative CPU seconds and run-queue wait seconds of all the process's threads."""

    def __init__(self) -> None:
        self._last_ns: dict[str, tuple[int, int]] = {}
        self._cpu_ns = 0
        self._wait_ns = 0
        self.available = os.path.isdir(_TASKS_PATH) and self.read() is not None

    def read(self) -> tuple[float, float] | None:
        """(CPU s, run-queue wait s) of all threads so far; None where the kernel keeps no schedstats."""
        try:
            thread_ids = os.listdir(_TASKS_PATH)
        except OSError:
            return None
        current: dict[str, tuple[int, int]] = {}
        for thread_id in thread_ids:
            counters = _read_thread(thread_id)
            if counters is None:
                continue
            current[thread_id] = counters
            previous_cpu_ns, previous_wait_ns = self._last_ns.get(thread_id, (0, 0))
            # A thread first seen now counts from its start: its whole life so far is new.
            self._cpu_ns += max(0, counters[0] - previous_cpu_ns)
            self._wait_ns += max(0, counters[1] - previous_wait_ns)
        if not current:
            return None
        self._last_ns = current
        return self._cpu_ns / 1e9, self._wait_ns / 1e9
