"""Latency of B against A when each side is several runs (repeats) of its code: the process-to-process spread
measured instead of assumed.

Two processes of the same code differ by more than anything the child can read about its machine: on the
shared 2-core host, 15-25% net of the reference kernels, the CPU it got and every thread's waits (a step's
memory layout, which core's caches it warmed, the host's other tenants at that minute; docs/benchmarks.md,
"compare under noise"). One run per side cannot tell such a difference from a 20% regression. With repeats,
each run's level over the common span (the median of its intervals' levels, in units of its own
machine-speed reference: analysis/latency_local.py) is one observation of its side; the change B/A is the
ratio of the two sides' geometric means, with a 95% interval from Student's t on the log levels, the spread
pooled over both sides. A view says "slower" (or "faster") when that change passes the tolerance and the
interval excludes no change; an interval too wide to rule out a change of REPEATS_UNDECIDED_CHANGE either
way says "unclear" rather than "same".

The tolerance starts lower than one run's (the interval carries the process spread now) and widens with
the contention and reference differences of the two sides' median conditions (analysis/machine_difference.py);
any pair of runs whose machines are beyond correction makes the sides "not comparable", naming that pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from leakhunt.analysis.latency_change import (
    UNCORRECTED_DECISIVE_RATIO,
    LatencyChange,
    LevelSeries,
    View,
    decide_views,
    set_deciding,
    view_words,
)
from leakhunt.analysis.machine_difference import (
    LATENCY_MIN_CHANGE,
    is_cpu_bound,
    tolerance_for,
    too_different,
)
from leakhunt.analysis.span_conditions import SpanConditions

# The smallest change called a change with repeats on both sides: the t interval carries the process spread,
# so this only keeps changes too small to matter out (and what a host's slow drift between the two sides'
# runs can add to every run of one side alike).
REPEATS_MIN_CHANGE = 0.08
# A "same" must rule out at least this change: an interval reaching past it either way is "unclear".
REPEATS_UNDECIDED_CHANGE = 0.2
CONFIDENCE = 0.95


@dataclass(frozen=True)
class RunLatency:
    """One run's latency over the common span."""

    label: str  # the run folder's name, for the words
    p50_ms: float | None
    conditions: SpanConditions
    wall_levels: LevelSeries
    cpu_levels: LevelSeries


@dataclass(frozen=True)
class SideChange:
    """B/A of the two sides' geometric means with its interval, and the spread of one run's level."""

    ratio: float
    low: float
    high: float
    spread: float  # the pooled standard deviation of ln(level): ~ the relative spread of one run


def side_change(levels_a: list[float], levels_b: list[float]) -> SideChange | None:
    """None when fewer than three runs in all (no spread to pool)."""
    logs_a, logs_b = np.log(np.asarray(levels_a, float)), np.log(np.asarray(levels_b, float))
    degrees = logs_a.size + logs_b.size - 2
    if logs_a.size == 0 or logs_b.size == 0 or degrees < 1:
        return None
    squares = float(np.sum((logs_a - logs_a.mean()) ** 2) + np.sum((logs_b - logs_b.mean()) ** 2))
    spread = math.sqrt(squares / degrees)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, degrees)) * spread * math.sqrt(1 / logs_a.size + 1 / logs_b.size)
    difference = float(logs_b.mean() - logs_a.mean())
    return SideChange(math.exp(difference), math.exp(difference - half), math.exp(difference + half), spread)


def _run_level(levels: LevelSeries) -> float | None:
    return float(np.median(levels.level)) if levels.usable else None


def _raw(values: list[float | None]) -> float | None:
    known = [value for value in values if value]
    return float(np.median(known)) if known else None


def repeated_view(name: str, raw_a: list[float | None], raw_b: list[float | None], levels_a: list[LevelSeries],
                  levels_b: list[LevelSeries], tolerance: float) -> tuple[View, SideChange | None] | None:
    median_a, median_b = _raw(raw_a), _raw(raw_b)
    if median_a is None or median_b is None:
        return None
    raw = median_b / median_a
    runs_a = [_run_level(levels) for levels in levels_a]
    runs_b = [_run_level(levels) for levels in levels_b]
    if None in runs_a or None in runs_b:
        return View(name, raw, raw, raw, raw, False, tolerance), None
    change = side_change([float(level) for level in runs_a if level is not None],
                         [float(level) for level in runs_b if level is not None])
    if change is None:
        return View(name, raw, raw, raw, raw, False, tolerance), None
    return View(name, raw, change.ratio, change.low, change.high, True, tolerance), change


def side_conditions(runs: list[RunLatency]) -> SpanConditions:
    """Each machine reading's median over a side's runs (readings counted over all of them)."""
    def median_of(name: str) -> float | None:
        values = [getattr(run.conditions, name) for run in runs if getattr(run.conditions, name) is not None]
        return float(np.median(values)) if values else None

    return SpanConditions(
        median_of("cpu_ms_per_iteration"), median_of("wall_ms_per_iteration"), median_of("cpu_share"),
        median_of("reference_ms"), median_of("reference_mem_ms"),
        sum(run.conditions.reference_readings for run in runs), sum(run.conditions.cpu_readings for run in runs),
        median_of("runqueue_wait_share"), median_of("threads_wait_fraction"))


def _pairs(runs_a: list[RunLatency], runs_b: list[RunLatency]):
    return [(a, b) for a in runs_a for b in runs_b]


def _not_comparable(runs_a: list[RunLatency], runs_b: list[RunLatency], cpu_bound: bool) -> str | None:
    for a, b in _pairs(runs_a, runs_b):
        reason = too_different(a.conditions, b.conditions, cpu_bound, tolerance_for(a.conditions, b.conditions))
        if reason is not None:
            return f"{b.label} (B) against {a.label} (A): {reason}"
    return None


def _undecided(views: list[View], changes: list[SideChange | None]) -> str | None:
    """Why a "same" cannot be said: an interval that reaches REPEATS_UNDECIDED_CHANGE either way."""
    for view, change in zip(views, changes, strict=True):
        if view.decides and change is not None and (
                change.high >= 1 + REPEATS_UNDECIDED_CHANGE or change.low <= 1 / (1 + REPEATS_UNDECIDED_CHANGE)):
            return (f"the 95% interval of the change "
                    f"[{change.low - 1:+.0%}, {change.high - 1:+.0%}] does not rule out "
                    f"{REPEATS_UNDECIDED_CHANGE:.0%} either way; more runs per side would tell")
    return None


def judge_repeated_latency(runs_a: list[RunLatency], runs_b: list[RunLatency]) -> LatencyChange:
    """The latency verdict of B's runs against A's runs over one common span (see the module docstring)."""
    pairs = _pairs(runs_a, runs_b)
    cpu_bound = any(is_cpu_bound(a.conditions, b.conditions) for a, b in pairs)
    raw_a, raw_b = [run.p50_ms for run in runs_a], [run.p50_ms for run in runs_b]
    # Widened by how differently the two *sides* ran (their median conditions): each run's level is already
    # net of its own machine, and one run whose machine was beyond correction makes the sides not comparable.
    tolerance = REPEATS_MIN_CHANGE + tolerance_for(side_conditions(runs_a), side_conditions(runs_b)) \
        - LATENCY_MIN_CHANGE
    wall = repeated_view("wall", raw_a, raw_b, [run.wall_levels for run in runs_a],
                         [run.wall_levels for run in runs_b], tolerance)
    if wall is None:
        return LatencyChange("unknown", (), "no latencies in the common span", cpu_bound)
    views, changes = [wall[0]], [wall[1]]
    cpu = None
    if cpu_bound:
        cpu = repeated_view("cpu", [run.conditions.cpu_ms_per_iteration for run in runs_a],
                            [run.conditions.cpu_ms_per_iteration for run in runs_b],
                            [run.cpu_levels for run in runs_a], [run.cpu_levels for run in runs_b], tolerance)
    if cpu is not None:
        views.append(cpu[0])
        changes.append(cpu[1])
        set_deciding(views, [(a.conditions, b.conditions) for a, b in pairs])
    reason = _not_comparable(runs_a, runs_b, cpu_bound)
    outcome, why = decide_views(views, reason)
    deciding = [view for view in views if view.decides]
    if outcome == "unclear" and all(view.normalised for view in deciding) and \
            len({view.large for view in deciding}) == 1:
        # Every view sees a change past the tolerance, in one direction, but none is sure of it: the spread.
        view = deciding[0]
        why = (f"a change of {view.ratio - 1:+.0%} whose 95% interval [{view.low_ratio - 1:+.0%}, "
               f"{view.high_ratio - 1:+.0%}] still includes none; more runs per side would tell")
    if outcome == "same":
        undecided = _undecided(views, changes)
        if undecided is not None:
            outcome, why = "unclear", undecided
    words = _words(outcome, views, changes, raw_a, raw_b, len(runs_a), len(runs_b), why)
    return LatencyChange(outcome, tuple(views), words, cpu_bound, why if outcome == "not comparable" else None)


def _words(outcome: str, views: list[View], changes: list[SideChange | None], raw_a: list[float | None],
           raw_b: list[float | None], count_a: int, count_b: int, reason: str | None) -> str:
    from leakhunt.units import human_ms

    spreads = [change.spread for change in changes if change is not None]
    runs = (f"{count_a} runs of A, {count_b} of B" + (f" (one run's level spreads by ~{max(spreads):.0%})"
                                                      if spreads else ""))
    median_a, median_b = _raw(raw_a), _raw(raw_b)
    steps = "" if median_a is None or median_b is None else f"; median step {human_ms(median_a)} → {human_ms(median_b)}"
    text = "; ".join(view_words(view) for view in views) + steps
    if outcome in ("slower", "faster"):
        deciding = [view for view in views if view.decides]
        size = min(abs(view.ratio - 1) for view in deciding)
        how = "net of the machine" if all(view.normalised for view in deciding) else (
            "raw (too few machine-speed readings to correct, but no comparable machine changes a step "
            f"{UNCORRECTED_DECISIVE_RATIO:g}x)")
        return f"B is {outcome} by {size:.0%} {how} over {runs}: {text}"
    if outcome == "same":
        return f"no change of {views[0].tolerance:.0%} or more net of the machine over {runs}: {text}"
    return f"{outcome}: {reason}; over {runs}: {text}"
