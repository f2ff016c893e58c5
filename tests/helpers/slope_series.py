"""Synthetic series with a known slope for the Theil-Sen interval tests: a trend plus AR(1) noise, and a steady
climb with rare level jumps (a C heap as the profiler saw it)."""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

from leakhunt.analysis import robust
from leakhunt.analysis.robust import SlopeFit

TRUE_SLOPE_BYTES_PER_ITER = 3.0
ITERATIONS_PER_READING = 10.0
NOISE_BYTES = 50.0
PAGE_BYTES = 4096
# The interval is 95%; with a few hundred seeds a correct one lands within a few points of that.
MIN_COVERAGE = 0.89


def ar1_noise(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise started in its stationary state (x_t = phi x_{t-1} + e_t, e_t ~ N(0, sigma))."""
    shocks = rng.normal(0, sigma, n)
    shocks[0] /= np.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], shocks)


def trend_plus_ar1(seed: int, n: int, phi: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(n) * ITERATIONS_PER_READING
    return x, 1e6 + TRUE_SLOPE_BYTES_PER_ITER * x + NOISE_BYTES * ar1_noise(rng, n, phi, 1.0)


def covers(fit: SlopeFit, truth: float) -> bool:
    return fit.ci_low <= truth <= fit.ci_high


def scipy_interval(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    result = stats.theilslopes(y, x, alpha=robust.CONFIDENCE_LEVEL)
    return float(result.low_slope), float(result.high_slope)


# A C heap that grows by an exact 544 B per reading (every 2 iterations) with rare level jumps: the
# readings that jump move by one of these multiples of 544 instead (0, +704, -848, +1296, +2176 bytes).
HEAP_STEP_BYTES = 544.0
HEAP_ITERATIONS_PER_READING = 2.0
PROFILED_JUMP_MULTIPLES = np.array([0, 704, -848, 1296, 2176]) / HEAP_STEP_BYTES
# Jumps of up to ten times the per-reading growth, either way.
TENFOLD_JUMP_MULTIPLES = np.array([0.0, -9.0, 11.0, 6.0, -4.0])


def steady_climb_with_level_jumps(seed: int, jump_rate: float, step_bytes: float = HEAP_STEP_BYTES,
                                  multiples: np.ndarray = PROFILED_JUMP_MULTIPLES) -> tuple[np.ndarray, np.ndarray]:
    """167 readings over 333 iterations, each `step_bytes` above the last except that about `jump_rate` of
    them move by a random one of `multiples` * step_bytes instead (the profiler's reproduction for seed 0)."""
    rng = np.random.default_rng(seed)
    x = np.arange(0, 334, HEAP_ITERATIONS_PER_READING)
    steps = np.full(len(x) - 1, step_bytes)
    jumps = rng.random(len(steps)) < jump_rate
    steps[jumps] = rng.choice(multiples * step_bytes, jumps.sum())
    return x, 50e6 + np.concatenate([[0], np.cumsum(steps)])


PROFILED_SLOPE = HEAP_STEP_BYTES / HEAP_ITERATIONS_PER_READING  # 272 B/iter
