"""Latency drift that is the workload's, not the machine's: a sustained, monotone slowdown test, run on the
raw latency and again net of the machine-speed reference the child timed during the run.

Method (documented in docs/verdicts.md, "Latency drift"):
1. The measured iterations are cut into DRIFT_WINDOWS windows; each window's median latency is its level.
2. A series is *slowing* when the median of its last fifth is at least DRIFT_MIN_FRACTION above that of its
   first fifth AND the window levels rise monotonically (Kendall's tau across the windows at least
   DRIFT_MIN_TAU). A hump that comes back, a U-shape, a slow start (warm-up) or a speed-up is not slowing.
3. The reference: every reading of the fixed kernel (sampling/machine_speed.py) tells how slow the machine
   was at that iteration. Dividing each latency by the machine's relative slowness there gives the
   corrected latency. Drift is flagged only when BOTH the raw and the corrected latency are slowing: a
   slowdown the reference explains is the machine's; and a workload that does not slow with the machine
   (a GPU-bound or sleeping step) is never flagged by the correction alone, since its raw latency is flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from leakhunt.analysis.robust import SlopeFit, robust_sigma, theil_sen

DRIFT_WINDOWS = 10
# The slowdown must add up to this share of the first fifth's median latency (thermal/turbo noise on most
# hosts stays under it).
DRIFT_MIN_FRACTION = 0.10
# Window levels must rise this monotonically: Kendall's tau of 0.5 over 10 windows is Mann-Kendall's
# one-sided 5% level (S >= 21 of 45 pairs); a U-shape or a hump scores near 0, a step midway ~0.55.
DRIFT_MIN_TAU = 0.5
# Fewer measured iterations than this say nothing about drift.
DRIFT_MIN_ITERATIONS = 50
# Fewer reference readings than this cannot describe how the machine's speed moved: no correction.
REFERENCE_MIN_READINGS = 8
# A machine-speed change smaller than this many standard errors of the reference's fifth medians is its
# own jitter, not the machine: no correction then (correcting by noise would only add noise).
REFERENCE_NOISE_SIGMAS = 2.0
# Standard error of a median = this * sigma / sqrt(n) for normal data.
MEDIAN_EFFICIENCY = 1.2533


@dataclass(frozen=True)
class SeriesTrend:
    """How one latency series (raw or corrected) moved over the run."""

    window_medians_ms: tuple[float, ...]
    change_first_to_last_fifth: float  # relative: +0.2 = the last fifth is 20% slower than the first
    tau: float  # Kendall's tau of the window medians against their order
    fit: SlopeFit | None  # ms per iteration

    @property
    def slowing(self) -> bool:
        return self.change_first_to_last_fifth >= DRIFT_MIN_FRACTION and self.tau >= DRIFT_MIN_TAU

    @property
    def faster(self) -> bool:
        return self.change_first_to_last_fifth <= -DRIFT_MIN_FRACTION and self.tau <= -DRIFT_MIN_TAU


@dataclass(frozen=True)
class DriftAnalysis:
    raw: SeriesTrend | None
    corrected: SeriesTrend | None  # None when the run has no usable reference
    reference_readings: int
    reference_p50_ms: float | None
    machine_change_first_to_last_fifth: float | None  # +0.3: the machine was 30% slower at the end

    @property
    def slowing(self) -> bool:
        if self.raw is None or not self.raw.slowing:
            return False
        return self.corrected is None or self.corrected.slowing

    @property
    def faster(self) -> bool:
        if self.raw is None or not self.raw.faster:
            return False
        return self.corrected is None or self.corrected.faster


def _fifth_masks(x: np.ndarray, first_x: float, last_x: float) -> tuple[np.ndarray, np.ndarray]:
    span = last_x - first_x
    return x <= first_x + span / 5, x >= last_x - span / 5


def _fifths_change(x: np.ndarray, y: np.ndarray) -> float:
    first, last = _fifth_masks(x, x[0], x[-1])
    base = float(np.median(y[first]))
    if base <= 0:
        return 0.0
    return float(np.median(y[last])) / base - 1.0


def _kendall_tau(levels: np.ndarray) -> float:
    if levels.size < 3:
        return 0.0
    tau = float(stats.kendalltau(np.arange(levels.size), levels).statistic)
    return tau if np.isfinite(tau) else 0.0  # all windows equal: no trend


def _windows(x: np.ndarray) -> list[np.ndarray]:
    return [index for index in np.array_split(np.arange(len(x)), DRIFT_WINDOWS) if index.size]


def series_trend(x: np.ndarray, y: np.ndarray) -> SeriesTrend | None:
    """Window medians, first-to-last-fifth change and monotonicity of one latency series (x in order)."""
    if len(x) < DRIFT_MIN_ITERATIONS or x[-1] <= x[0]:
        return None
    medians = np.array([float(np.median(y[index])) for index in _windows(x)])
    return SeriesTrend(tuple(float(m) for m in medians), _fifths_change(x, y), _kendall_tau(medians),
                       theil_sen(x, y))


@dataclass(frozen=True)
class MachineSpeed:
    """How slow the machine was in each drift window and from the first to the last fifth (1.0 = median)."""

    window_slowness: np.ndarray
    change_first_to_last_fifth: float  # 0.0 when within the reference's own noise


def machine_speed(x: np.ndarray, reference_x: np.ndarray, reference_ms: np.ndarray) -> MachineSpeed | None:
    """The machine's relative slowness per drift window of x, from the reference readings taken there.

    Medians per window (and per fifth) keep the reference's own jitter out of the correction; a change
    smaller than REFERENCE_NOISE_SIGMAS standard errors of those medians is taken as no change at all.
    """
    keep = np.isfinite(reference_x) & np.isfinite(reference_ms) & (reference_ms > 0)
    reference_x, reference_ms = reference_x[keep], reference_ms[keep]
    if reference_ms.size < REFERENCE_MIN_READINGS:
        return None
    overall = float(np.median(reference_ms))
    levels = []
    for index in _windows(x):
        inside = (reference_x >= x[index[0]]) & (reference_x <= x[index[-1]])
        levels.append(float(np.median(reference_ms[inside])) if inside.any() else np.nan)
    levels_array = np.array(levels)
    known = np.isfinite(levels_array)
    if not known.any():
        return None
    centres = np.array([float(np.median(x[index])) for index in _windows(x)])
    levels_array = np.interp(centres, centres[known], levels_array[known]) / overall
    first, last = _fifth_masks(reference_x, x[0], x[-1])
    change = 0.0
    if first.any() and last.any():
        first_level, last_level = float(np.median(reference_ms[first])), float(np.median(reference_ms[last]))
        change = last_level / first_level - 1.0
        relative_sigma = robust_sigma(reference_ms / overall)
        standard_error = MEDIAN_EFFICIENCY * relative_sigma * np.sqrt(1 / first.sum() + 1 / last.sum())
        if abs(change) < REFERENCE_NOISE_SIGMAS * standard_error:
            change = 0.0
            levels_array = np.ones_like(levels_array)
    return MachineSpeed(levels_array, change)


def analyse_drift(x: np.ndarray, latency_ms: np.ndarray, reference_x: np.ndarray,
                  reference_ms: np.ndarray) -> DriftAnalysis:
    """Raw and reference-corrected trends of a latency series (x: measured iteration, in order)."""
    finite = reference_ms[np.isfinite(reference_ms)]
    reference_p50 = float(np.median(finite)) if finite.size else None
    raw = series_trend(x, latency_ms)
    machine = machine_speed(x, reference_x, reference_ms) if raw is not None else None
    corrected = None
    if machine is not None:
        medians = np.array(raw.window_medians_ms) / machine.window_slowness
        change = (1 + raw.change_first_to_last_fifth) / (1 + machine.change_first_to_last_fifth) - 1
        slowness_per_point = np.repeat(machine.window_slowness, [index.size for index in _windows(x)])
        corrected = SeriesTrend(tuple(float(m) for m in medians), float(change), _kendall_tau(medians),
                                theil_sen(x, latency_ms / slowness_per_point))
    return DriftAnalysis(raw, corrected, int(finite.size), reference_p50,
                         None if machine is None else machine.change_first_to_last_fifth)
