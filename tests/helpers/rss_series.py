"""Synthetic RSS series with a known shape (linear, plateau, sawtooth, step, ...) as the parent's sampler sees
them: whole 4 KiB pages plus noise."""

from __future__ import annotations

import numpy as np

from leakhunt.analysis.leak import PAGE_BYTES, estimate_growth
from leakhunt.analysis.verdict import judge_growth

MIB = 2**20
BASE_RSS_BYTES = 600 * MIB
NOISE_BYTES = 64 * 1024  # allocator jitter of a quiet process


def fabricate_rss(kind: str, iterations: int = 5000, iterations_per_sample: float = 2.0,
                  slope_bytes_per_iter: float = 1024.0, noise_bytes: float = NOISE_BYTES, seed: int = 0):
    """(measured iteration, RSS bytes) like the parent's sampler sees it: whole 4 KiB pages plus noise."""
    rng = np.random.default_rng(seed)
    x = np.arange(0, iterations, iterations_per_sample).astype(float)
    shapes = {
        "linear": lambda: slope_bytes_per_iter * x,
        "flat": lambda: 0 * x,
        "plateau": lambda: slope_bytes_per_iter * np.minimum(x, iterations * 0.5),
        "sawtooth": lambda: 8 * slope_bytes_per_iter * (x % 1000),
        "sawtooth_rising": lambda: 8 * slope_bytes_per_iter * (x % 1000) + slope_bytes_per_iter * x,
        "step": lambda: np.where(x > iterations * 0.6, 20 * MIB, 0),
        "slowing": lambda: slope_bytes_per_iter * 60 * np.sqrt(x),
        "warmup_then_linear": lambda: slope_bytes_per_iter * x + 30 * MIB * (1 - np.exp(-x / 200)),
        "warmup_then_flat": lambda: 30 * MIB * (1 - np.exp(-x / 200)),
        # What the TF1 tutorial pattern looks like: a steady climb, with brief deep dips (a few samples at
        # each new Session, when a big buffer is freed and taken back): bounded dips, unbounded level.
        "linear_with_transient_dips": lambda: slope_bytes_per_iter * x - 300 * MIB * (
            (x % 600 >= 300) & (x % 600 < 306)),
        # A flat process whose allocator now and then grabs or returns a chunk (arena/mmap jitter).
        "allocator_jitter": lambda: np.cumsum(rng.choice([0, 0, 0, 0, 132 * 1024, -132 * 1024], len(x))
                                              * (rng.random(len(x)) < 0.02)),
    }
    trend = shapes[kind]()
    y = BASE_RSS_BYTES + trend + rng.normal(0, noise_bytes, len(x))
    return x, np.floor(y / PAGE_BYTES) * PAGE_BYTES


def judged(kind: str, **kwargs):
    x, y = fabricate_rss(kind, **kwargs)
    estimate = estimate_growth("rss", x, y)
    return estimate, judge_growth(estimate)
