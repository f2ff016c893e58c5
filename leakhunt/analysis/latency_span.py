"""Latency over a range of measured iterations: the one place `leakhunt compare` reads step latencies from.

Every "latency over iterations [first, last]" figure of a comparison (the span's percentiles, its windows'
medians) comes from `latency_in_span`, so how latencies are stored (a row per step, or latency blocks past the
first steps of a long run) stays behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.latency_history import latency_quantiles
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
    """Quantiles of one strategy's step latency over measured iterations first..last (inclusive): from every
    step's row, or from the merged bucket counts of a run whose later steps are in latency blocks."""
    wanted = tuple(float(quantile) for quantile in quantiles)
    if analysis.latency_history is not None and not analysis.latency_history.exact:
        span = latency_quantiles(analysis.latency_history, first_iteration, last_iteration,
                                 [100.0 * quantile for quantile in wanted])
        if span.count == 0:
            return SpanLatency(first_iteration, last_iteration, 0, wanted, ())
        return SpanLatency(first_iteration, last_iteration, span.count, wanted,
                           tuple(float(value or 0.0) for value in span.percentiles_ms.values()))
    iteration, latency_ms = analysis.latency_iteration, analysis.latency_ms
    inside = (iteration >= first_iteration) & (iteration <= last_iteration) & np.isfinite(latency_ms)
    values = latency_ms[inside]
    if values.size == 0:
        return SpanLatency(first_iteration, last_iteration, 0, wanted, ())
    found = np.quantile(values, wanted)
    return SpanLatency(first_iteration, last_iteration, int(values.size), wanted,
                       tuple(float(value) for value in found))
