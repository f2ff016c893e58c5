"""A workload that allocates and frees the same amount each step: memory stays flat.

Returns an object with step() and close() to show the second form of the workload contract.
"""

import time

import numpy as np

WORK_TIME_S = 0.001  # same pacing as examples/leaky.py so the two compare side by side


class FlatWorkload:
    images_per_step = 1

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def step(self):
        scratch = self.rng.standard_normal((128, 128))
        scratch @ scratch  # real work, then everything is freed
        time.sleep(WORK_TIME_S)

    def close(self):
        self.rng = None


def make():
    return FlatWorkload()
