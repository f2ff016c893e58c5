"""Verdicts over many seeds: the slope interval covers a planted leak's rate, and flat workloads (quiet,
allocator jitter, a warm-up that settles) are never called leaks at any noise level."""

from __future__ import annotations

import pytest

from helpers.rss_series import MIB, judged


@pytest.mark.parametrize("slope", [256.0, 1024.0, 8192.0])
def test_interval_covers_true_slope(slope):
    covered = 0
    for seed in range(10):
        estimate, _ = judged("linear", slope_bytes_per_iter=slope, seed=seed, iterations=20000,
                             iterations_per_sample=4)
        covered += estimate.fit.ci_low <= slope <= estimate.fit.ci_high
    assert covered >= 8


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("noise", [4 * 1024, 64 * 1024, 2 * MIB])
def test_flat_workloads_are_never_leaks(seed, noise):
    for kind in ("flat", "allocator_jitter", "warmup_then_flat"):
        _, judgement = judged(kind, seed=seed, noise_bytes=noise)
        assert judgement.verdict != "leak", (kind, judgement.reason)
