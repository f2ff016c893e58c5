"""Latency over a range of measured iterations: the one place `leakhunt compare` reads step latencies from.

Every "latency over iterations [first, last]" figure of a comparison (the span's percentiles, its windows'
medians) comes from `latency_in_span`, so how latencies are stored (one value per step today) can change
behind it without touching the comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.strategy_analysis import StrategyAnalysis


@dataclass(frozen=True)
class SpanLatency:
    """Latency quantiles (ms) of the measured iterations first..last (inclusive)."""

    first_iteration: int
    last_iteration: int
    count: int  # measured iterations with a latency in the range
    quantiles: tuple[float, ...]  # what was asked for, in [0, 1]
    values_ms: tuple[float, ...]  # one per quantile; empty when count is 0

    def at(self, quantile: float) -> float | None:
        """The value at one of the quantiles asked for (None without latencies)."""
        if not self.values_ms:
            return None
        return self.values_ms[self.quantiles.index(quantile)]


def latency_in_span(analysis: StrategyAnalysis, first_iteration: int, last_iteration: int,
                    quantiles: Sequence[float] = (0.5,)) -> SpanLatency:
    """Quantiles of one strategy's step latency over measured iterations first..last (inclusive)."""
    iteration, latency_ms = analysis.latency_iteration, analysis.latency_ms
    inside = (iteration >= first_iteration) & (iteration <= last_iteration) & np.isfinite(latency_ms)
    values = latency_ms[inside]
    wanted = tuple(float(quantile) for quantile in quantiles)
    if values.size == 0:
        return SpanLatency(first_iteration, last_iteration, 0, wanted, ())
    found = np.quantile(values, wanted)
    return SpanLatency(first_iteration, last_iteration, int(values.size), wanted,
                       tuple(float(value) for value in found))
