"""A workload that leaks on purpose: every step keeps 16 KiB of bytes in a module-level list.

    leakhunt soak --workload examples/leaky.py:make --workload examples/flat.py:make --iterations 2000
"""

import time

KEPT_BYTES_PER_STEP = 16 * 1024
# Stands in for ~1 ms of inference so a 2000-iteration soak lasts long enough for 10 Hz sampling.
WORK_TIME_S = 0.001


def make():
    kept = []

    def step():
        # bytearray() touches its pages, so the growth shows in RSS, not only in virtual size.
        kept.append(bytearray(KEPT_BYTES_PER_STEP))
        time.sleep(WORK_TIME_S)

    return step
