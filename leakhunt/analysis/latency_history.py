"""The measured latency of one strategy as the run folder holds it: steps with a row of their own (the first
steps and every reading step, exact) and blocks of steps summarised as log-linear bucket counts
(leakhunt/rundir/latency_blocks.py). Quantiles over any span of iterations, and equal-count bins in iteration order
(drift windows, plot bands), come from merged counts, within latency_histogram.RELATIVE_ERROR (0.39%).

A run without blocks (up to ~10k steps, and every run folder of format 1) is read exactly, as before.
latency_quantiles() is the one call for "latency over iterations [lo, hi]" (leakhunt compare's common span).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from leakhunt.rundir.latency_blocks import LatencyBlocks, empty_blocks
from leakhunt.rundir.latency_histogram import bucket_index, quantiles_from_counts

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class LatencyHistory:
    """Measured latency: exact rows (iteration ascending) and measured blocks (their first/last iteration)."""

    iteration: np.ndarray
    latency_ms: np.ndarray
    start_s: np.ndarray
    blocks: LatencyBlocks
    block_first: np.ndarray  # measured iteration of each block's first and last step
    block_last: np.ndarray

    @property
    def exact(self) -> bool:
        """Every measured step has its own latency (no blocks): percentiles and drift read the steps."""
        return len(self.blocks) == 0

    @property
    def count(self) -> int:
        return int(self.latency_ms.size + self.blocks.steps.sum())

    @property
    def block_center(self) -> np.ndarray:
        return (self.block_first + self.block_last) / 2.0

    @cached_property
    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(the distinct buckets of the run, the column of each exact row, the column of each block entry):
        every merge then adds counts into one array of columns (no sorting, no copy of the entries)."""
        exact = bucket_index(self.latency_ms * 1e6)
        present = np.zeros(int(max(exact.max(initial=0), self.blocks.bucket.max(initial=0))) + 1, dtype=bool)
        present[exact] = True
        present[self.blocks.bucket] = True
        column = (np.cumsum(present) - 1).astype(np.int32)
        return np.flatnonzero(present), column[exact], column[self.blocks.bucket]

    def exact_range(self, first: float, last: float) -> tuple[int, int]:
        """The exact rows in iterations [first, last]: rows[start:stop] (they are in iteration order)."""
        return (int(np.searchsorted(self.iteration, first, "left")),
                int(np.searchsorted(self.iteration, last, "right")))

    def block_range(self, first: float, last: float) -> tuple[int, int]:
        """The blocks of iterations [first, last]: those whose middle step is in it (a span's edges are exact to
        within a block), or, for a span narrower than a block, those it overlaps."""
        center = self.block_center
        start, stop = int(np.searchsorted(center, first, "left")), int(np.searchsorted(center, last, "right"))
        if start < stop:
            return start, stop
        return int(np.searchsorted(self.block_last, first, "left")), int(np.searchsorted(self.block_first, last,
                                                                                         "right"))


def measured_latency(iterations: pd.DataFrame, warmup_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(measured iteration, latency_ms, start_monotonic_s) of the measured rows, in step order."""
    if iterations.empty or "step" not in iterations.columns or "latency_ms" not in iterations.columns:
        return np.empty(0), np.empty(0), np.empty(0)
    steps = pd.to_numeric(iterations["step"], errors="coerce").to_numpy(dtype=float)
    latency = pd.to_numeric(iterations["latency_ms"], errors="coerce").to_numpy(dtype=float)
    starts = pd.to_numeric(iterations.get("start_monotonic_s", pd.Series(np.nan, index=iterations.index)),
                           errors="coerce").to_numpy(dtype=float)
    if "phase" in iterations.columns:
        measured = (iterations["phase"].astype(str) == "measure").to_numpy()
    else:
        measured = steps >= warmup_steps
    keep = measured & np.isfinite(steps) & np.isfinite(latency)
    order = np.argsort(steps[keep], kind="stable")
    return (steps[keep] - warmup_steps)[order], latency[keep][order], starts[keep][order]


def latency_history(iterations: pd.DataFrame, blocks: LatencyBlocks | None, warmup_steps: int) -> LatencyHistory:
    """A strategy's measured latency from its iterations.csv rows and its latency blocks."""
    iteration, latency_ms, start_s = measured_latency(iterations, warmup_steps)
    measured = empty_blocks() if blocks is None or not len(blocks) else blocks.measured_only()
    return LatencyHistory(iteration, latency_ms, start_s, measured,
                          (measured.first_step - warmup_steps).astype(float),
                          (measured.last_step - warmup_steps).astype(float))


def span_counts(history: LatencyHistory, first: float, last: float) -> tuple[np.ndarray, np.ndarray]:
    """(bucket, count) of the measured steps in iterations [first, last], exact rows binned like the blocks."""
    buckets, exact_column, block_column = history.columns
    exact_start, exact_stop = history.exact_range(first, last)
    block_start, block_stop = history.block_range(first, last)
    low, high = history.blocks.offsets[block_start], history.blocks.offsets[block_stop]
    counts = (np.bincount(exact_column[exact_start:exact_stop], minlength=buckets.size)
              + np.bincount(block_column[low:high], weights=history.blocks.count[low:high], minlength=buckets.size))
    found = counts > 0
    return buckets[found], counts[found].astype(np.int64)


@dataclass(frozen=True)
class SpanQuantiles:
    """Latency percentiles over measured iterations [first_iteration, last_iteration]."""

    first_iteration: float
    last_iteration: float
    count: int
    percentiles_ms: dict[float, float | None]
    exact: bool  # from every step's latency; else from merged bucket counts (within RELATIVE_ERROR)


def latency_quantiles(source, first_iteration: float | None = None, last_iteration: float | None = None,
                      percentiles=PERCENTILES) -> SpanQuantiles:
    """Latency percentiles over measured iterations [first_iteration, last_iteration] (None: from the first /
    to the last). `source` is a LatencyHistory or anything holding one as `latency_history` (a StrategyAnalysis).
    Exact where every step in the span has its row; else from merged counts (blocks at the span's edges count
    when their middle step is inside)."""
    history: LatencyHistory = getattr(source, "latency_history", source)
    first = -np.inf if first_iteration is None else float(first_iteration)
    last = np.inf if last_iteration is None else float(last_iteration)
    exact_start, exact_stop = history.exact_range(first, last)
    values = history.latency_ms[exact_start:exact_stop]
    touching = (history.block_last >= first) & (history.block_first <= last)
    if not touching.any():
        count = int(values.size)
        found = np.percentile(values, percentiles) if count else [None] * len(percentiles)
        exact = True
    else:
        buckets, counts = span_counts(history, first, last)
        count = int(counts.sum())
        found = quantiles_from_counts(buckets, counts, np.asarray(percentiles, dtype=float) / 100.0)
        exact = False
    return SpanQuantiles(first, last, count,
                         {p: None if v is None else float(v) for p, v in zip(percentiles, found, strict=True)}, exact)


def latency_sample(history: LatencyHistory, limit: int, first_iteration: float | None = None,
                   last_iteration: float | None = None) -> np.ndarray:
    """Up to `limit` latencies standing for the distribution over measured iterations [first, last] (None: the
    whole run), for rank tests: an even subsample of the steps in iteration order where every step has its row,
    else `limit` evenly spaced quantiles of the merged counts."""
    first = -np.inf if first_iteration is None else float(first_iteration)
    last = np.inf if last_iteration is None else float(last_iteration)
    if not ((history.block_last >= first) & (history.block_first <= last)).any():
        start, stop = history.exact_range(first, last)
        values = history.latency_ms[start:stop]
        return values if len(values) <= limit else values[np.linspace(0, len(values) - 1, limit).astype(int)]
    buckets, counts = span_counts(history, first, last)
    size = int(min(limit, counts.sum()))
    return quantiles_from_counts(buckets, counts, (np.arange(size) + 0.5) / size)
