"""The steps between two machine-speed readings, read in units of those readings: what
analysis/latency_change.py compares.

Between consecutive reference readings (the rows of iterations.csv that carry `reference_ms`) the child's
wall clock, process CPU time and run-queue wait are known at both ends. Per interval:
- *wall level*: wall time per iteration minus the time the step thread waited for a CPU (a neighbour's
  time slices), divided by the reference kernel there (how fast each cycle ran);
- *CPU level*: process CPU time per iteration divided by the same reference.
A run's level over a span is the median of its intervals' levels, so the machine's speed is matched to the
steps it slowed, however it moved during the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leakhunt.analysis.latency_change import LevelSeries


@dataclass(frozen=True)
class ReferenceRows:
    """One run's reference readings in step order (measured iteration; NaN where a value was not read)."""

    iteration: np.ndarray
    wall_s: np.ndarray  # monotonic clock at the end of the reading's step
    cpu_s: np.ndarray  # process CPU time
    wait_s: np.ndarray  # the step thread's cumulative run-queue wait
    reference_ms: np.ndarray


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)


def reference_rows(iterations: pd.DataFrame, warmup_steps: int) -> ReferenceRows:
    if iterations.empty or "reference_ms" not in iterations.columns:
        empty = np.empty(0)
        return ReferenceRows(empty, empty, empty, empty, empty)
    reference = _column(iterations, "reference_ms")
    iteration = _column(iterations, "step") - warmup_steps
    keep = np.isfinite(reference) & (reference > 0) & np.isfinite(iteration) & (iteration >= 0)
    frame = iterations[keep]
    order = np.argsort(iteration[keep], kind="stable")
    wall = _column(frame, "start_monotonic_s") + _column(frame, "latency_ms") / 1000.0
    return ReferenceRows(iteration[keep][order], wall[order], _column(frame, "process_cpu_s")[order],
                         _column(frame, "runqueue_wait_s")[order], reference[keep][order])


# The reference is smoothed over this many neighbouring readings: one reading a neighbour's burst spoiled
# does not speak for its interval, a machine that changes over seconds is still followed.
REFERENCE_SMOOTHING_READINGS = 5


def running_median(values: np.ndarray, width: int = REFERENCE_SMOOTHING_READINGS) -> np.ndarray:
    half = min(width, values.size) // 2
    return np.array([np.median(values[max(0, k - half):k + half + 1]) for k in range(values.size)])


def interval_levels(rows: ReferenceRows, first: int, last: int) -> tuple[LevelSeries, LevelSeries]:
    """(wall levels, CPU levels) of the intervals between consecutive readings inside first..last."""
    inside = (rows.iteration >= first) & (rows.iteration <= last)
    x, wall, cpu = rows.iteration[inside], rows.wall_s[inside], rows.cpu_s[inside]
    wait, reference = rows.wait_s[inside], running_median(rows.reference_ms[inside])
    wall_points: list[tuple[float, float]] = []
    cpu_points: list[tuple[float, float]] = []
    for k in range(x.size - 1):
        steps, elapsed_s = x[k + 1] - x[k], wall[k + 1] - wall[k]
        if steps <= 0 or not elapsed_s > 0:
            continue
        middle = float(x[k] + x[k + 1]) / 2
        waited_s = wait[k + 1] - wait[k]
        running_s = elapsed_s - (waited_s if np.isfinite(waited_s) and 0 <= waited_s <= elapsed_s else 0.0)
        scale = float(np.sqrt(reference[k] * reference[k + 1]))  # the machine at both ends of the interval
        wall_points.append((middle, running_s / steps * 1e3 / scale))
        used_s = cpu[k + 1] - cpu[k]
        if np.isfinite(used_s) and used_s > 0:
            cpu_points.append((middle, used_s / steps * 1e3 / scale))
    return _series(wall_points), _series(cpu_points)


def _series(points: list[tuple[float, float]]) -> LevelSeries:
    kept = [(x, level) for x, level in points if np.isfinite(level) and level > 0]
    return LevelSeries(np.array([x for x, _ in kept]), np.array([level for _, level in kept]))


def local_levels(iterations: pd.DataFrame, warmup_steps: int, first: int,
                 last: int) -> tuple[LevelSeries, LevelSeries]:
    """(wall levels, CPU levels) of one run over first..last."""
    return interval_levels(reference_rows(iterations, warmup_steps), first, last)
