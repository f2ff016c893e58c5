"""What the machine gave one child over a span of measured iterations: the CPU time it used per iteration,
the share of a CPU it got per wall second, and its machine-speed reference kernels' medians.

These are what `leakhunt compare` corrects latency with (analysis/latency_change.py): a busier machine
stretches the wall clock of a CPU-bound step (the child gets a smaller share of a CPU) and slows each
cycle (a neighbour on the same core or memory bus: both reference kernels see it), while the CPU time the
step itself needs stays what the code makes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leakhunt.analysis.series import iteration_series
from leakhunt.analysis.strategy_data import cpu_readings

# Fewer reference readings than this inside the span cannot describe it: the run's readings are used.
MIN_SPAN_REFERENCE_READINGS = 5


@dataclass(frozen=True)
class SpanConditions:
    """One child's machine over measured iterations first..last; None where the run folder cannot tell."""

    cpu_ms_per_iteration: float | None  # process CPU time (all threads) per iteration, readings included
    wall_ms_per_iteration: float | None  # wall clock per iteration over the same readings
    cpu_share: float | None  # CPU seconds per wall second (all threads: above 1 for a multi-threaded step)
    reference_ms: float | None  # compute kernel median
    reference_mem_ms: float | None  # memory kernel median (None in run folders written before it existed)
    reference_readings: int
    cpu_readings: int
    # Share of the wall clock the step thread waited for a CPU (run-queue wait; None before it was recorded).
    runqueue_wait_share: float | None = None
    # Of all threads' time on a CPU or waiting for one, the share spent waiting (None before it was recorded):
    # how crowded the whole child was, whether its step runs on one thread or many.
    threads_wait_fraction: float | None = None


def _median_in(x: np.ndarray, values: np.ndarray, first: int, last: int) -> tuple[float | None, int]:
    """Median of the values read inside first..last, else of all of them (too few inside to mean much)."""
    keep = np.isfinite(values) & (values > 0)
    x, values = x[keep], values[keep]
    inside = values[(x >= first) & (x <= last)]
    chosen = inside if inside.size >= MIN_SPAN_REFERENCE_READINGS else values
    return (float(np.median(chosen)) if chosen.size else None), int(inside.size)


def _cpu_over(iterations: pd.DataFrame, warmup_steps: int, first: int,
              last: int) -> tuple[float | None, float | None, float | None, int]:
    """(CPU ms per iteration, wall ms per iteration, CPU share, readings) between the first and last CPU
    readings inside first..last."""
    readings = cpu_readings(iterations, warmup_steps)
    if readings is None:
        return None, None, None, 0
    keep = (np.isfinite(readings.iteration) & np.isfinite(readings.cpu_s) & np.isfinite(readings.wall_s)
            & (readings.iteration >= first) & (readings.iteration <= last))
    iteration, wall_s, cpu_s = readings.iteration[keep], readings.wall_s[keep], readings.cpu_s[keep]
    if iteration.size < 2 or iteration[-1] <= iteration[0] or wall_s[-1] <= wall_s[0]:
        return None, None, None, int(iteration.size)
    steps = float(iteration[-1] - iteration[0])
    cpu_used_s, wall_used_s = float(cpu_s[-1] - cpu_s[0]), float(wall_s[-1] - wall_s[0])
    return cpu_used_s / steps * 1e3, wall_used_s / steps * 1e3, cpu_used_s / wall_used_s, int(iteration.size)


def _wait_share(iterations: pd.DataFrame, warmup_steps: int, first: int, last: int) -> float | None:
    """Run-queue wait per wall second between the first and last readings of it inside first..last."""
    if "runqueue_wait_s" not in iterations.columns:
        return None
    rows = iterations.dropna(subset=["runqueue_wait_s"])
    iteration = pd.to_numeric(rows["step"], errors="coerce").to_numpy(dtype=float) - warmup_steps
    wall = (pd.to_numeric(rows["start_monotonic_s"], errors="coerce")
            + pd.to_numeric(rows["latency_ms"], errors="coerce") / 1000.0).to_numpy(dtype=float)
    wait = pd.to_numeric(rows["runqueue_wait_s"], errors="coerce").to_numpy(dtype=float)
    keep = (iteration >= first) & (iteration <= last) & np.isfinite(wall) & np.isfinite(wait)
    wall, wait = wall[keep], wait[keep]
    if wall.size < 2 or wall[-1] <= wall[0]:
        return None
    return float(np.clip((wait[-1] - wait[0]) / (wall[-1] - wall[0]), 0.0, 1.0))


def _threads_wait_fraction(iterations: pd.DataFrame, warmup_steps: int, first: int, last: int) -> float | None:
    """All threads' run-queue wait over their wait plus CPU time, between the first and last readings of it
    inside first..last."""
    if not {"threads_cpu_s", "threads_runqueue_wait_s"} <= set(iterations.columns):
        return None
    rows = iterations.dropna(subset=["threads_cpu_s", "threads_runqueue_wait_s"])
    iteration = pd.to_numeric(rows["step"], errors="coerce").to_numpy(dtype=float) - warmup_steps
    cpu = pd.to_numeric(rows["threads_cpu_s"], errors="coerce").to_numpy(dtype=float)
    wait = pd.to_numeric(rows["threads_runqueue_wait_s"], errors="coerce").to_numpy(dtype=float)
    keep = (iteration >= first) & (iteration <= last) & np.isfinite(cpu) & np.isfinite(wait)
    cpu, wait = cpu[keep], wait[keep]
    if cpu.size < 2:
        return None
    waited_s, ran_s = float(wait[-1] - wait[0]), float(cpu[-1] - cpu[0])
    if waited_s < 0 or ran_s <= 0:
        return None
    return waited_s / (waited_s + ran_s)


def span_conditions(iterations: pd.DataFrame, warmup_steps: int, first: int, last: int) -> SpanConditions:
    """The machine one child had over measured iterations first..last (from its iterations.csv rows)."""
    cpu_ms, wall_ms, share, cpu_count = _cpu_over(iterations, warmup_steps, first, last)
    reference, reference_count = _median_in(*iteration_series(iterations, "reference_ms", warmup_steps), first, last)
    memory, _ = _median_in(*iteration_series(iterations, "reference_mem_ms", warmup_steps), first, last)
    return SpanConditions(cpu_ms, wall_ms, share, reference, memory, reference_count, cpu_count,
                          _wait_share(iterations, warmup_steps, first, last),
                          _threads_wait_fraction(iterations, warmup_steps, first, last))

