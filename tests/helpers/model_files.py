"""Model files for bad-input tests that need no TensorFlow to write."""

from __future__ import annotations

import numpy as np


def make_random_bytes(tmp_path, frozen_path):
    target = tmp_path / "random.pb"
    target.write_bytes(np.random.RandomState(7).bytes(4096))
    return target
