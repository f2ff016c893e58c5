"""All threads' CPU time and run-queue wait, read from the kernel's per-thread schedstat."""

from __future__ import annotations

import threading
import time

import pytest

from leakhunt.sampling.thread_waits import ThreadWaits


def _work(cpu_seconds: float, used: threading.Event, may_exit: threading.Event) -> None:
    """Spin until this thread used `cpu_seconds` of CPU (its own clock: a busy machine only delays it)."""
    while time.thread_time() < cpu_seconds:
        pass
    used.set()
    may_exit.wait()


def test_all_threads_cpu_time_is_counted_and_survives_a_thread_that_exits():
    waits = ThreadWaits()
    if not waits.available:
        pytest.skip("this kernel keeps no per-thread schedstat")
    first = waits.read()
    assert first is not None
    cpu_before = time.process_time()
    # GIVEN a worker thread that used 0.3 s of CPU, read while it lives, and gone at the next reading
    used, may_exit = threading.Event(), threading.Event()
    worker = threading.Thread(target=_work, args=(0.3, used, may_exit))
    worker.start()
    used.wait()
    assert waits.read() is not None
    may_exit.set()
    worker.join()
    second = waits.read()
    cpu_used = time.process_time() - cpu_before
    # THEN its CPU time is in the total though the thread is gone, within what the process used
    assert second is not None
    assert 0.28 < second[0] - first[0] <= cpu_used + 0.02
    # AND the totals never go back (the exited thread's counters are not subtracted)
    third = waits.read()
    assert third is not None and third[0] >= second[0] and third[1] >= second[1]
