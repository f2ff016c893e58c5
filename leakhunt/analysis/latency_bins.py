"""Latency in equal-count bins of measured iterations, from merged bucket counts: the drift windows and fit
points of a run with latency blocks (analysis/drift.py reads them as LatencyWindows), and the latency plot's
band, median line and histogram. Every bin's percentiles are within latency_histogram.RELATIVE_ERROR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.drift import DRIFT_MIN_ITERATIONS, DRIFT_WINDOWS, LatencyWindows
from leakhunt.analysis.latency_history import LatencyHistory, span_counts
from leakhunt.analysis.robust import SLOPE_MAX_POINTS
from leakhunt.rundir.latency_histogram import bucket_value_ms, quantiles_from_counts


@dataclass(frozen=True)
class LatencyBins:
    """Non-empty bins in iteration order: each bin's first and last iteration and its steps' bucket counts."""

    first: np.ndarray
    last: np.ndarray
    counts: np.ndarray  # (bins, buckets): steps per bin and bucket
    values_ms: np.ndarray  # the latency each bucket column stands for

    @property
    def middle(self) -> np.ndarray:
        return (self.first + self.last) / 2.0

    @property
    def steps(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def quantile(self, fraction: float) -> np.ndarray:
        """Per bin, ranked as numpy's default percentile (linear between order statistics)."""
        cumulative = np.cumsum(self.counts, axis=1)
        totals = cumulative[:, -1]
        position = fraction * (totals - 1)
        below = np.floor(position)
        low = (cumulative > below[:, None]).argmax(axis=1)
        high = (cumulative > np.minimum(below + 1, totals - 1)[:, None]).argmax(axis=1)
        return self.values_ms[low] + (position - below) * (self.values_ms[high] - self.values_ms[low])


def latency_bins(history: LatencyHistory, bins: int) -> LatencyBins:
    """Cut the measured steps into `bins` bins of about equal step count, in iteration order; a block stays
    whole (in the bin of its middle step), so bins are equal to within a block. Empty bins are dropped."""
    buckets, exact_column, block_column = history.columns
    blocks = history.blocks
    position = np.concatenate([history.iteration, history.block_center])
    weight = np.concatenate([np.ones(history.iteration.size), blocks.steps.astype(float)])
    order = np.argsort(position, kind="stable")
    before = np.empty_like(weight)
    before[order] = np.cumsum(weight[order]) - weight[order]
    total = float(weight.sum())
    unit_bin = np.minimum(((before + weight / 2) * bins / max(total, 1.0)).astype(np.int64), bins - 1)
    exact_bin, block_bin = unit_bin[:history.iteration.size], unit_bin[history.iteration.size:]
    # Rows and blocks are in iteration order, so each bin's rows, blocks and bucket entries are slices.
    exact_edges = np.searchsorted(exact_bin, np.arange(bins + 1))
    entry_edges = blocks.offsets[np.searchsorted(block_bin, np.arange(bins + 1))]
    counts = np.zeros((bins, buckets.size))
    for index in range(bins):
        low, high = entry_edges[index], entry_edges[index + 1]
        counts[index] = (np.bincount(exact_column[exact_edges[index]:exact_edges[index + 1]], minlength=buckets.size)
                         + np.bincount(block_column[low:high], weights=blocks.count[low:high], minlength=buckets.size))
    first, last = np.full(bins, np.inf), np.full(bins, -np.inf)
    np.minimum.at(first, unit_bin, np.concatenate([history.iteration, history.block_first]))
    np.maximum.at(last, unit_bin, np.concatenate([history.iteration, history.block_last]))
    filled = counts.sum(axis=1) > 0
    return LatencyBins(first[filled], last[filled], counts[filled], bucket_value_ms(buckets))


def _span_median(history: LatencyHistory, first: float, last: float) -> float:
    buckets, counts = span_counts(history, first, last)
    return float(quantiles_from_counts(buckets, counts, 0.5)[0])


def binned_windows(history: LatencyHistory) -> LatencyWindows | None:
    """The drift test's windows of a run with latency blocks: window medians and fifths from merged counts, the
    slope fitted on the medians of SLOPE_MAX_POINTS equal-count bins. None when too short to say anything."""
    if history.count < DRIFT_MIN_ITERATIONS:
        return None
    starts = np.concatenate([history.iteration, history.block_first])
    ends = np.concatenate([history.iteration, history.block_last])
    first_x, last_x = float(starts.min()), float(ends.max())
    if last_x <= first_x:
        return None
    windows = latency_bins(history, DRIFT_WINDOWS)
    span = last_x - first_x
    base = _span_median(history, first_x, first_x + span / 5)
    change = _span_median(history, last_x - span / 5, last_x) / base - 1.0 if base > 0 else 0.0
    fit = latency_bins(history, SLOPE_MAX_POINTS)
    fit_x = fit.middle
    fit_window = np.minimum(np.searchsorted(windows.last, fit_x, side="left"), len(windows.last) - 1)
    return LatencyWindows(tuple(zip(windows.first.tolist(), windows.last.tolist(), strict=True)), windows.quantile(0.5),
                          float(change), fit_x, fit.quantile(0.5), fit_window)
