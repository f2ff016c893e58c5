"""Latency of the measured iterations: percentiles, throughput, and drift (ms per 1000 iterations).

Whether the drift is a finding (`drift_significant`) is decided by analysis/drift.py: a sustained,
monotone slowdown of the raw latency that the machine-speed reference does not explain. A run with latency
blocks (long runs, analysis/latency_history.py) gets the same figures from merged bucket counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.drift import DriftAnalysis, analyse_drift, analyse_windows
from leakhunt.analysis.drift_machine import CpuReadings
from leakhunt.analysis.latency_bins import binned_windows
from leakhunt.analysis.latency_history import PERCENTILES, LatencyHistory, measured_latency, span_counts
from leakhunt.analysis.robust import SlopeFit, clean_xy, theil_sen
from leakhunt.rundir.latency_histogram import quantiles_from_counts

__all__ = ["LatencyStats", "latency_stats", "history_latency_stats", "measured_latency", "PERCENTILES"]
ITERATIONS_PER_DRIFT_UNIT = 1000  # drift is reported per 1000 iterations


@dataclass(frozen=True)
class LatencyStats:
    count: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    images_per_s: float | None
    seconds_per_iteration: float | None
    drift_ms_per_1k_iter: float | None
    drift_ci95_ms_per_1k_iter: tuple[float, float] | None
    drift_over_run_ms: float | None
    drift_significant: bool
    drift: DriftAnalysis | None = None  # raw and reference-corrected trends behind drift_significant

    @property
    def faster_over_run(self) -> bool:
        return self.drift is not None and self.drift.faster


def latency_stats(iteration: np.ndarray, latency_ms: np.ndarray, start_s: np.ndarray,
                  images_per_step: float = 1.0, reference_iteration: np.ndarray | None = None,
                  reference_ms: np.ndarray | None = None, cpu: CpuReadings | None = None,
                  paused_s: float = 0.0) -> LatencyStats:
    """Percentiles, throughput and drift of the measured steps. `paused_s`: time the child spent between steps on
    the profiler's own forced full collections (not what a caller of the workload would wait for)."""
    count = int(len(latency_ms))
    if count == 0:
        return LatencyStats(0, None, None, None, None, None, None, None, None, None, None, False)
    p50, p90, p99 = (float(v) for v in np.percentile(latency_ms, PERCENTILES))
    mean_ms = float(np.mean(latency_ms))
    seconds_per_iteration = mean_ms / 1000.0
    finite_starts = start_s[np.isfinite(start_s)]
    if finite_starts.size >= 2 and finite_starts[-1] > finite_starts[0]:
        # Wall clock between step starts includes the loop's own overhead: what a caller really gets.
        loop_s = max(float(finite_starts[-1] - finite_starts[0]) - paused_s, 0.0)
        seconds_per_iteration = loop_s / (finite_starts.size - 1) or seconds_per_iteration
    images_per_s = images_per_step / seconds_per_iteration if seconds_per_iteration > 0 else None
    x, y = clean_xy(iteration, latency_ms)
    fit: SlopeFit | None = theil_sen(x, y)
    drift = drift_ci = drift_over_run = None
    if fit is not None:
        drift = fit.slope * ITERATIONS_PER_DRIFT_UNIT
        drift_ci = (fit.ci_low * ITERATIONS_PER_DRIFT_UNIT, fit.ci_high * ITERATIONS_PER_DRIFT_UNIT)
        drift_over_run = fit.slope * float(x[-1] - x[0])
    empty = np.empty(0)
    drift_analysis = analyse_drift(x, y, empty if reference_iteration is None else reference_iteration,
                                   empty if reference_ms is None else reference_ms, cpu)
    significant = drift_analysis.slowing
    return LatencyStats(
        count=count, p50_ms=p50, p90_ms=p90, p99_ms=p99, max_ms=float(np.max(latency_ms)), mean_ms=mean_ms,
        images_per_s=images_per_s, seconds_per_iteration=seconds_per_iteration,
        drift_ms_per_1k_iter=drift, drift_ci95_ms_per_1k_iter=drift_ci, drift_over_run_ms=drift_over_run,
        drift_significant=significant, drift=drift_analysis,
    )


def _wall_s_per_iteration(history: LatencyHistory, paused_s: float = 0.0) -> float | None:
    """Wall time from the first measured step's start to the last one's end, less the forced collections'
    pauses, per measured step."""
    blocks = history.blocks
    starts = np.concatenate([history.start_s, blocks.start_s])
    ends = np.concatenate([history.start_s + history.latency_ms / 1000.0, blocks.end_s])
    starts, ends = starts[np.isfinite(starts)], ends[np.isfinite(ends)]
    if not starts.size or not ends.size or ends.max() <= starts.min():
        return None
    return max(float(ends.max() - starts.min()) - paused_s, 0.0) / history.count


def history_latency_stats(history: LatencyHistory, images_per_step: float = 1.0,
                          reference_iteration: np.ndarray | None = None, reference_ms: np.ndarray | None = None,
                          cpu: CpuReadings | None = None, paused_s: float = 0.0) -> LatencyStats:
    """latency_stats of a strategy's measured latency: from every step when it has no blocks (as before), else
    percentiles and drift from merged bucket counts, mean and max from the blocks' sums and maxima. `paused_s`:
    as in latency_stats."""
    if history.exact:
        return latency_stats(history.iteration, history.latency_ms, history.start_s, images_per_step,
                             reference_iteration, reference_ms, cpu, paused_s)
    blocks = history.blocks
    count = history.count
    buckets, counts = span_counts(history, -np.inf, np.inf)
    p50, p90, p99 = (float(v) for v in quantiles_from_counts(buckets, counts, np.array(PERCENTILES) / 100.0))
    mean_ms = float(history.latency_ms.sum() + blocks.sum_ms.sum()) / count
    max_ms = float(max(history.latency_ms.max(initial=-np.inf), blocks.max_ms.max(initial=-np.inf)))
    seconds_per_iteration = _wall_s_per_iteration(history, paused_s) or mean_ms / 1000.0
    empty = np.empty(0)
    windows = binned_windows(history)
    drift_analysis = analyse_windows(windows, empty if reference_iteration is None else reference_iteration,
                                     empty if reference_ms is None else reference_ms, cpu)
    fit = None if drift_analysis.raw is None else drift_analysis.raw.fit
    drift = drift_ci = drift_over_run = None
    if fit is not None and windows is not None:
        drift = fit.slope * ITERATIONS_PER_DRIFT_UNIT
        drift_ci = (fit.ci_low * ITERATIONS_PER_DRIFT_UNIT, fit.ci_high * ITERATIONS_PER_DRIFT_UNIT)
        drift_over_run = fit.slope * (windows.bounds[-1][1] - windows.bounds[0][0])
    return LatencyStats(
        count=count, p50_ms=p50, p90_ms=p90, p99_ms=p99, max_ms=max_ms, mean_ms=mean_ms,
        images_per_s=images_per_step / seconds_per_iteration if seconds_per_iteration > 0 else None,
        seconds_per_iteration=seconds_per_iteration, drift_ms_per_1k_iter=drift, drift_ci95_ms_per_1k_iter=drift_ci,
        drift_over_run_ms=drift_over_run, drift_significant=drift_analysis.slowing, drift=drift_analysis,
    )
