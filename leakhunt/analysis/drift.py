"""Latency drift that is the workload's, not the machine's: a sustained, monotone slowdown test, run on the
raw latency and again net of the machine-speed reference the child timed during the run.

Method (documented in docs/verdicts.md, "Latency drift"):
1. The measured iterations are cut into DRIFT_WINDOWS windows; each window's median latency is its level.
2. A series is *slowing* when the median of its last fifth is at least DRIFT_MIN_FRACTION above that of its
   first fifth AND the window levels rise monotonically (Kendall's tau across the windows at least
   DRIFT_MIN_TAU). A hump that comes back, a U-shape, a slow start (warm-up) or a speed-up is not slowing.
3. The machine's slowness per window comes from two signals, the larger one counting: the fixed reference
   kernel (sampling/machine_speed.py), and, for a CPU-bound child, how much CPU it got per wall second
   (its process CPU time at each reading: a starved child loses time slices the short kernel slips
   between). Dividing each window's latency by that slowness gives the corrected latency. Drift is
   flagged only when BOTH the raw and the corrected latency are slowing: a slowdown the machine explains
   is the machine's; and a workload that does not slow with the machine
   (a GPU-bound or sleeping step) is never flagged by the correction alone, since its raw latency is flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from leakhunt.analysis.robust import SlopeFit, theil_sen

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
# A window's reference level needs this many kernel readings (one preempted reading is not the machine).
REFERENCE_MIN_PER_WINDOW = 3
# A machine whose slowness stayed within this share of its median everywhere did not change: no correction
# then (correcting by the signals' own jitter would only add noise).
MACHINE_NOISE_FRACTION = 0.05
# The child counts as CPU-bound when it usually gets at least this much CPU per wall second (all threads).
CPU_BOUND_MIN_SHARE = 0.6
# --until-decided stops only once the latency trend is decided too, so that the drift flag of a stopped run is the
# one a longer run would get: "drift" when both trends pass the test by this factor of DRIFT_MIN_FRACTION;
# "none" when the trend that can clear it (the corrected one, else the raw one) does not pass, and its rate so far,
# held for DRIFT_HORIZON_FACTOR times the iterations run (at most to the maximum), would add less than
# DRIFT_MIN_FRACTION / DRIFT_SETTLE_MARGIN between the first and the last fifth. Anything in between keeps the run
# going. The horizon is a compromise: held to a maximum 40x away, the noise of a 130-iteration slope alone would
# keep every run going; a creep too slow to show within 4x the iterations run may still be flagged by a full run.
DRIFT_SETTLE_MARGIN = 1.5
DRIFT_HORIZON_FACTOR = 4.0

DriftState = Literal["drift", "none", "undecided"]


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


@dataclass(frozen=True)
class LatencyWindows:
    """A latency series as the drift test reads it: DRIFT_WINDOWS windows in iteration order (their first and
    last iteration, their median), the first-to-last-fifth change, and the points a slope is fitted on (with
    the window each belongs to, for the machine correction). Built from every step's latency (exact_windows)
    or from merged bucket counts (analysis/latency_history.py: long runs' latency blocks)."""

    bounds: tuple[tuple[float, float], ...]
    medians_ms: np.ndarray
    change_first_to_last_fifth: float
    fit_x: np.ndarray
    fit_y: np.ndarray
    fit_window: np.ndarray


def exact_windows(x: np.ndarray, y: np.ndarray) -> LatencyWindows | None:
    """The windows of a series with every step's latency (x in order); None when too short to say anything."""
    if len(x) < DRIFT_MIN_ITERATIONS or x[-1] <= x[0]:
        return None
    windows = _windows(x)
    medians = np.array([float(np.median(y[index])) for index in windows])
    return LatencyWindows(tuple((float(x[index[0]]), float(x[index[-1]])) for index in windows), medians,
                          _fifths_change(x, y), x, y, np.repeat(np.arange(len(windows)), [w.size for w in windows]))


def series_trend(x: np.ndarray, y: np.ndarray) -> SeriesTrend | None:
    """Window medians, first-to-last-fifth change and monotonicity of one latency series (x in order)."""
    windows = exact_windows(x, y)
    return None if windows is None else _trend(windows)


def _trend(windows: LatencyWindows) -> SeriesTrend:
    medians = windows.medians_ms
    return SeriesTrend(tuple(float(m) for m in medians), windows.change_first_to_last_fifth, _kendall_tau(medians),
                       theil_sen(windows.fit_x, windows.fit_y))


@dataclass(frozen=True)
class MachineSpeed:
    """How slow the machine was in each drift window and from the first to the last fifth (1.0 = median)."""

    window_slowness: np.ndarray
    change_first_to_last_fifth: float  # 0.0 when within the signals' own noise


@dataclass(frozen=True)
class CpuReadings:
    """The child's cumulative process CPU time at its reading steps, with the wall clock at the same point."""

    iteration: np.ndarray
    wall_s: np.ndarray
    cpu_s: np.ndarray


Bounds = tuple[tuple[float, float], ...]  # each drift window's first and last measured iteration


def _kernel_slowness(bounds: Bounds, reference_x: np.ndarray, reference_ms: np.ndarray) -> np.ndarray | None:
    """Per window: the reference kernel's median there / its median over the run (None: too few readings)."""
    keep = np.isfinite(reference_x) & np.isfinite(reference_ms) & (reference_ms > 0)
    reference_x, reference_ms = reference_x[keep], reference_ms[keep]
    if reference_ms.size < REFERENCE_MIN_READINGS:
        return None
    overall = float(np.median(reference_ms))
    levels = []
    for low, high in bounds:
        inside = reference_ms[(reference_x >= low) & (reference_x <= high)]
        # One preempted reading must not stand for a whole window: too few readings count as "unknown".
        levels.append(float(np.median(inside)) / overall if inside.size >= REFERENCE_MIN_PER_WINDOW else np.nan)
    filled = _fill_unknown(np.array(levels))
    # Relative to its fastest window (1.0 = the machine at its best), like the CPU share's slowness.
    return None if filled is None else filled / float(np.min(filled))


def _cpu_slowness(bounds: Bounds, cpu: CpuReadings | None) -> np.ndarray | None:
    """Per window: how much less CPU per wall second the child got than it usually did (1.0 = usual).

    A CPU-bound child that gets half the CPU because neighbours compete takes twice as long per step while
    its CPU time per step stays the same. A GPU-bound or sleeping child uses little CPU whatever the load,
    so the signal is only used where the child is CPU-bound (usually busy at least CPU_BOUND_MIN_SHARE).
    """
    if cpu is None:
        return None
    keep = np.isfinite(cpu.iteration) & np.isfinite(cpu.wall_s) & np.isfinite(cpu.cpu_s)
    iteration, wall_s, cpu_s = cpu.iteration[keep], cpu.wall_s[keep], cpu.cpu_s[keep]
    shares = []
    for low, high in bounds:
        inside = (iteration >= low) & (iteration <= high)
        if inside.sum() < 2:
            shares.append(np.nan)
            continue
        wall = float(wall_s[inside][-1] - wall_s[inside][0])
        shares.append(float(cpu_s[inside][-1] - cpu_s[inside][0]) / wall if wall > 0 else np.nan)
    share = np.array(shares)
    if not np.isfinite(share).any():
        return None
    if float(np.nanmedian(share)) < CPU_BOUND_MIN_SHARE:
        return None
    # Relative to its best windows (1.0 = unstarved), like the kernel's slowness, so the two compare.
    best = float(np.nanmax(share))
    return _fill_unknown(best / np.maximum(share, 1e-9))


def _fill_unknown(levels: np.ndarray) -> np.ndarray | None:
    known = np.isfinite(levels)
    if not known.any():
        return None
    positions = np.arange(levels.size)
    return np.interp(positions, positions[known], levels[known])


def machine_speed(bounds: Bounds, reference_x: np.ndarray, reference_ms: np.ndarray,
                  cpu: CpuReadings | None = None) -> MachineSpeed | None:
    """The machine's relative slowness per drift window (`bounds`): the larger of what the reference kernel and
    the child's CPU share say (the kernel is short enough to slip between a neighbour's time slices; the CPU
    share sees every slice the child lost). A change within MACHINE_NOISE_FRACTION is taken as none."""
    kernel = _kernel_slowness(bounds, reference_x, reference_ms)
    starved = _cpu_slowness(bounds, cpu)
    signals = [signal for signal in (kernel, starved) if signal is not None]
    if not signals:
        return None
    slowness = signals[0] if len(signals) == 1 else np.maximum(signals[0], signals[1])
    slowness = slowness / float(np.median(slowness))
    fifth = max(1, slowness.size // 5)
    change = float(np.mean(slowness[-fifth:]) / np.mean(slowness[:fifth]) - 1.0)
    if abs(change) < MACHINE_NOISE_FRACTION and np.all(np.abs(slowness - 1) < MACHINE_NOISE_FRACTION):
        return MachineSpeed(np.ones_like(slowness), 0.0)
    return MachineSpeed(slowness, change)


def analyse_drift(x: np.ndarray, latency_ms: np.ndarray, reference_x: np.ndarray,
                  reference_ms: np.ndarray, cpu: CpuReadings | None = None) -> DriftAnalysis:
    """Raw and machine-corrected trends of a latency series (x: measured iteration, in order)."""
    return analyse_windows(exact_windows(x, latency_ms), reference_x, reference_ms, cpu)


def analyse_windows(windows: LatencyWindows | None, reference_x: np.ndarray, reference_ms: np.ndarray,
                    cpu: CpuReadings | None = None) -> DriftAnalysis:
    """Raw and machine-corrected trends of a latency series cut into drift windows (None: too short)."""
    finite = reference_ms[np.isfinite(reference_ms)]
    reference_p50 = float(np.median(finite)) if finite.size else None
    raw = None if windows is None else _trend(windows)
    # A machine reading is only taken for a raw trend.
    machine = None if windows is None else machine_speed(windows.bounds, reference_x, reference_ms, cpu)
    corrected = None
    if machine is not None and windows is not None and raw is not None:
        medians = np.array(raw.window_medians_ms) / machine.window_slowness
        change = (1 + raw.change_first_to_last_fifth) / (1 + machine.change_first_to_last_fifth) - 1
        slowness_per_point = machine.window_slowness[windows.fit_window]
        corrected = SeriesTrend(tuple(float(m) for m in medians), float(change), _kendall_tau(medians),
                                theil_sen(windows.fit_x, windows.fit_y / slowness_per_point))
    return DriftAnalysis(raw, corrected, int(finite.size), reference_p50,
                         None if machine is None else machine.change_first_to_last_fifth)


def _projected_change(trend: SeriesTrend, span_iterations: float, max_span_iterations: float) -> float:
    """The first-to-last-fifth change the trend's rate would make over the maximum run (its point estimate)."""
    base = trend.window_medians_ms[0] if trend.window_medians_ms else 0.0
    if trend.fit is None or base <= 0:
        return float("inf")
    horizon = min(max_span_iterations, DRIFT_HORIZON_FACTOR * span_iterations)
    # The fifths' centres sit 0.8 of the span apart.
    return trend.fit.slope * 0.8 * max(horizon, span_iterations) / base


def drift_state(drift: DriftAnalysis | None, span_iterations: float, max_span_iterations: float) -> DriftState:
    """Whether a run that stopped now would carry the drift flag a full run carries (see DRIFT_SETTLE_MARGIN)."""
    if drift is None or drift.raw is None:
        return "undecided"
    trends = [trend for trend in (drift.raw, drift.corrected) if trend is not None]
    if drift.slowing:
        clear = all(trend.change_first_to_last_fifth >= DRIFT_SETTLE_MARGIN * DRIFT_MIN_FRACTION for trend in trends)
        return "drift" if clear else "undecided"
    clearing = drift.corrected if drift.corrected is not None else drift.raw
    projected = _projected_change(clearing, span_iterations, max_span_iterations)
    return "none" if projected < DRIFT_MIN_FRACTION / DRIFT_SETTLE_MARGIN else "undecided"
