"""Latency of the measured iterations: percentiles, throughput, and drift (ms per 1000 iterations).

Whether the drift is a finding (`drift_significant`) is decided by analysis/drift.py: a sustained,
monotone slowdown of the raw latency that the machine-speed reference does not explain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leakhunt.analysis.drift import CpuReadings, DriftAnalysis, analyse_drift
from leakhunt.analysis.robust import SlopeFit, clean_xy, theil_sen

PERCENTILES = (50, 90, 99)
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


def measured_latency(iterations: pd.DataFrame, warmup_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(measured iteration, latency_ms, start_monotonic_s) for the measured steps, in step order."""
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
