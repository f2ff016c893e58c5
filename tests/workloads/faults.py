"""Workloads for the soak engine's integration tests: known leaks, crashes and faults."""

import ctypes
import os
import signal
import time

STEP_TIME_S = 0.001  # long enough that 10 Hz sampling sees ~100 iterations per sample


def leak_16k():
    kept = []

    def step():
        kept.append(bytearray(16 * 1024))
        time.sleep(STEP_TIME_S)

    return step


def flat():
    def step():
        scratch = bytearray(256 * 1024)
        del scratch
        time.sleep(STEP_TIME_S)

    return step


def sigkill_at_300():
    counter = {"steps": 0}

    def step():
        counter["steps"] += 1
        if counter["steps"] > 300:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.004)

    return step


def raise_at_50():
    counter = {"steps": 0}

    def step():
        counter["steps"] += 1
        if counter["steps"] > 50:
            raise ValueError("planted failure at step 50")
        time.sleep(STEP_TIME_S)

    return step


def segfault_at_20():
    counter = {"steps": 0}

    def step():
        counter["steps"] += 1
        if counter["steps"] > 20:
            ctypes.string_at(0)  # reads address 0: SIGSEGV in native code
        time.sleep(STEP_TIME_S)

    return step


def hang_at_30():
    counter = {"steps": 0}

    def step():
        counter["steps"] += 1
        if counter["steps"] > 30:
            time.sleep(3600)
        time.sleep(STEP_TIME_S)

    return step


def leak_1mib_fast():
    kept = []

    def step():
        kept.append(bytearray(1024 * 1024))
        time.sleep(0.002)

    return step


class ObjectWorkload:
    images_per_step = 4

    def __init__(self):
        self.closed = False

    def step(self):
        time.sleep(STEP_TIME_S)

    def evidence(self):
        return {"graph_ops": 7}

    def close(self):
        self.closed = True


def object_form():
    return ObjectWorkload()


def returns_int():
    return 42


NOT_A_FUNCTION = 3


def kill_parent_after_2s():
    """SIGKILLs its parent 2 s into the loop: under --backend ray that parent is the Ray worker, which then dies
    as it would under Ray's memory monitor or a lost node (never run it with the local backend)."""
    started = {"s": None}

    def step():
        now = time.monotonic()
        if started["s"] is None:
            started["s"] = now
        elif now - started["s"] > 2.0:
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(5)  # the parent's death takes this child with it (PR_SET_PDEATHSIG)
        time.sleep(STEP_TIME_S)

    return step
