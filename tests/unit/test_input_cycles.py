"""A flat series that cycles with its input is flat at every run length, not a sawtooth at some of them."""

from __future__ import annotations

import numpy as np
import pytest

from leakhunt.analysis.leak import TF_ALLOCATOR_KIND, estimate_growth
from leakhunt.analysis.verdict import judge_growth

# TF's allocator after each call of a persistent Session fed six bundled images in turn (a real run's values).
SIX_IMAGE_CYCLE_BYTES = np.array([171346944, 161746944, 209454080, 171346944, 163666944, 184786944], float)


@pytest.mark.parametrize("iterations", [131, 197, 263, 341, 392, 450, 1000])
def test_an_input_cycle_without_growth_is_flat_at_every_length(iterations):
    levels = np.resize(SIX_IMAGE_CYCLE_BYTES, iterations)
    estimate = estimate_growth("tf_current", np.arange(iterations, dtype=float), levels, kind=TF_ALLOCATOR_KIND)
    judgement = judge_growth(estimate)
    assert (judgement.verdict, judgement.pattern) == ("flat", "none"), judgement.reason


def test_a_short_run_keeps_its_sawtooth_teeth():
    # 150 iterations, a cache that fills 1 MiB per step and is emptied every 30 steps: five teeth.
    steps = np.arange(150, dtype=float)
    levels = 400e6 + (steps % 30) * 1024 * 1024
    judgement = judge_growth(estimate_growth("tf_current", steps, levels, kind=TF_ALLOCATOR_KIND))
    assert (judgement.verdict, judgement.pattern) == ("plateau", "sawtooth"), judgement.reason
