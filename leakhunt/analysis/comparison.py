"""Two runs of the same strategies side by side, over the iterations both ran: which changes are real.

Pure: run folders in (already read), plain dicts out (the renderers in report/compare.py only format).
Per strategy matched by name:
- the *common span*: from the later of the two runs' warm-up ends (RSS's detected warm-up) to the last
  iteration of the shorter run. --until-decided stops every run once its verdict is settled, so two runs of
  one command end at different iterations; a workload whose memory or latency changes along the run would
  otherwise be compared over different parts of it;
- memory: each compared series' growth re-estimated inside the span (analysis/memory_change.py);
- latency: the span's median step and CPU time per iteration, net of the machine each child had
  (analysis/latency_change.py); "not comparable" when the machines differ beyond correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.comparison_types import (
    ComparisonRow,
    ConditionsRow,
    LatencyFields,
    LatencyViewRow,
    MemoryFields,
    RowIdentity,
)
from leakhunt.analysis.latency_change import LatencyChange, LevelSeries, View, judge_latency
from leakhunt.analysis.latency_local import local_levels
from leakhunt.analysis.latency_span import latency_in_span
from leakhunt.analysis.memory_change import MemoryChange, compare_series, compared_series, series_in_span
from leakhunt.analysis.repeated_memory import RepeatedMemoryChange
from leakhunt.analysis.run_differences import strategy_differences
from leakhunt.analysis.span_conditions import SpanConditions, span_conditions
from leakhunt.analysis.strategy_analysis import StrategyAnalysis
from leakhunt.rundir.records import RunRecord

# Percentiles of the span's latency shown side by side.
SPAN_QUANTILES = (0.5, 0.99)
EMPTY_LEVELS = (LevelSeries(np.empty(0), np.empty(0)), LevelSeries(np.empty(0), np.empty(0)))


@dataclass(frozen=True)
class CommonSpan:
    """Measured iterations first..last (inclusive) that both runs judged, and how they were chosen."""

    first_iteration: int
    last_iteration: int
    words: str


def last_measured_iteration(analysis: StrategyAnalysis) -> int | None:
    if analysis.latency_iteration.size:
        return int(np.max(analysis.latency_iteration))
    return analysis.iterations_completed - 1 if analysis.iterations_completed > 0 else None


def warmup_end(analysis: StrategyAnalysis) -> int:
    estimate = analysis.estimates.get("rss")
    return 0 if estimate is None else int(estimate.warmup_end_iteration)


def common_span(a: StrategyAnalysis, b: StrategyAnalysis) -> CommonSpan | None:
    """From the later warm-up end to the end of the shorter run (None when either run measured nothing)."""
    last_a, last_b = last_measured_iteration(a), last_measured_iteration(b)
    if last_a is None or last_b is None:
        return None
    last = min(last_a, last_b)
    warmup_a, warmup_b = warmup_end(a), warmup_end(b)
    first = max(warmup_a, warmup_b)
    if first >= last:
        first = 0  # a warm-up that ate the whole shorter run: compare everything rather than nothing
    start = ("from the first measured iteration" if first == 0 else
             f"from the later warm-up end ({'A' if warmup_a >= warmup_b else 'B'}'s)")
    if last_a == last_b:
        end = "to the end of both runs"
    else:
        shorter, longer_last = ("A", last_b) if last_a < last_b else ("B", last_a)
        end = f"to the end of the shorter run ({shorter}; the other ran to iteration {longer_last})"
    return CommonSpan(first, last, f"iterations {first}–{last}: {start} {end}")


def memory_outcome(changes: Sequence[MemoryChange | RepeatedMemoryChange]) -> str:
    """RSS's outcome decides "unknown"; one series more and another less is "mixed"."""
    outcomes = {change.outcome for change in changes}
    if not changes or changes[0].outcome == "unknown":
        return "unknown"
    moved = outcomes & {"more", "less"}
    if len(moved) == 2:
        return "mixed"
    return moved.pop() if moved else "same"


def memory_fields(changes: Sequence[MemoryChange | RepeatedMemoryChange]) -> MemoryFields:
    """The memory part of a row: one run per side (MemoryChange) or several (RepeatedMemoryChange: each side's
    median slope, the hull of its runs' intervals, its most common verdict)."""
    rss = changes[0]
    shown = [change for change in changes if change is rss or change.outcome in ("more", "less")]
    return {
        "memory_outcome": memory_outcome(changes),
        "memory_in_words": "; ".join(change.words for change in shown),
        "memory_series": [{
            "series": change.series, "outcome": change.outcome,
            "slope_a_per_iter": change.a.slope, "slope_ci95_a_per_iter": change.a.interval,
            "slope_b_per_iter": change.b.slope, "slope_ci95_b_per_iter": change.b.interval,
            "verdict_a_in_span": change.a.verdict, "verdict_b_in_span": change.b.verdict,
        } for change in changes],
        "rss_slope_a_bytes_per_iter": rss.a.slope, "rss_slope_ci95_a_bytes_per_iter": rss.a.interval,
        "rss_slope_b_bytes_per_iter": rss.b.slope, "rss_slope_ci95_b_bytes_per_iter": rss.b.interval,
        "rss_slope_delta_bytes_per_iter": (None if rss.a.slope is None or rss.b.slope is None
                                           else rss.b.slope - rss.a.slope),
        "rss_slope_significant": rss.outcome in ("more", "less"),
    }


def conditions_row(conditions: SpanConditions) -> ConditionsRow:
    return {
        "cpu_ms_per_iteration": conditions.cpu_ms_per_iteration,
        "wall_ms_per_iteration": conditions.wall_ms_per_iteration, "cpu_share": conditions.cpu_share,
        "reference_ms": conditions.reference_ms, "reference_mem_ms": conditions.reference_mem_ms,
        "reference_readings": conditions.reference_readings, "cpu_readings": conditions.cpu_readings,
        "runqueue_wait_share": conditions.runqueue_wait_share,
        "threads_wait_fraction": conditions.threads_wait_fraction,
    }


def view_row(view: View) -> LatencyViewRow:
    return {
        "name": view.name, "raw_ratio": view.raw_ratio, "ratio": view.ratio, "low_ratio": view.low_ratio,
        "high_ratio": view.high_ratio, "normalised": view.normalised, "tolerance": view.tolerance,
        "decides": view.decides, "says": view.says,
    }


def _latency_fields(change: LatencyChange, a: StrategyAnalysis, b: StrategyAnalysis, span: CommonSpan,
                    conditions: tuple[SpanConditions, SpanConditions]) -> LatencyFields:
    span_a = latency_in_span(a, span.first_iteration, span.last_iteration, SPAN_QUANTILES)
    span_b = latency_in_span(b, span.first_iteration, span.last_iteration, SPAN_QUANTILES)
    p50_a, p50_b = span_a.at(0.5), span_b.at(0.5)
    wall = change.views[0] if change.views else None
    decided = [view for view in change.views if view.decides]
    return {
        "latency_outcome": change.outcome, "latency_in_words": change.words, "cpu_bound": change.cpu_bound,
        "latency_views": [view_row(view) for view in change.views],
        "latency_p50_a_ms": p50_a, "latency_p50_b_ms": p50_b,
        "latency_p99_a_ms": span_a.at(0.99), "latency_p99_b_ms": span_b.at(0.99),
        "latency_p50_delta_ms": None if p50_a is None or p50_b is None else p50_b - p50_a,
        "latency_p50_relative_change": None if wall is None else wall.raw_ratio - 1,
        "latency_net_change": None if not decided else decided[-1].ratio - 1,
        "latency_significant": change.outcome in ("slower", "faster"),
        "latency_comparable": change.outcome != "not comparable",
        "latency_not_comparable_reason": change.not_comparable_reason,
        "reference_p50_a_ms": conditions[0].reference_ms, "reference_p50_b_ms": conditions[1].reference_ms,
        "conditions_a": conditions_row(conditions[0]), "conditions_b": conditions_row(conditions[1]),
    }


def compare_latency(a: StrategyAnalysis, b: StrategyAnalysis, strategy_a, strategy_b, span: CommonSpan,
                    run_a: RunRecord, run_b: RunRecord) -> tuple[LatencyChange, tuple[SpanConditions, SpanConditions]]:
    first, last = span.first_iteration, span.last_iteration
    conditions = (span_conditions(strategy_a.iterations, a.warmup_steps, first, last),
                  span_conditions(strategy_b.iterations, b.warmup_steps, first, last))
    if run_a.cpu and run_b.cpu and run_a.cpu != run_b.cpu:
        reason = f"different CPUs ({run_a.cpu} vs {run_b.cpu})"
        return LatencyChange("not comparable", (), f"not comparable: {reason}", False, reason), conditions
    p50_a = latency_in_span(a, first, last).at(0.5)
    p50_b = latency_in_span(b, first, last).at(0.5)
    if p50_a is None or p50_b is None:
        return judge_latency(p50_a, p50_b, *conditions, EMPTY_LEVELS, None), conditions
    wall_a, cpu_a = local_levels(strategy_a.iterations, a.warmup_steps, first, last)
    wall_b, cpu_b = local_levels(strategy_b.iterations, b.warmup_steps, first, last)
    cpu_levels = (cpu_a, cpu_b)
    return judge_latency(p50_a, p50_b, *conditions, (wall_a, wall_b), cpu_levels), conditions


def compare_strategy(a: StrategyAnalysis, b: StrategyAnalysis, strategy_a, strategy_b,
                     run_a: RunRecord | None = None, run_b: RunRecord | None = None) -> ComparisonRow:
    """One matched strategy: A's and B's analyses with their rundir.StrategyData (for the readings)."""
    run_a, run_b = run_a or RunRecord(), run_b or RunRecord()
    identity: RowIdentity = {
        "name": b.name, "verdict_a": a.verdict.verdict, "verdict_b": b.verdict.verdict,
        "verdict_changed": a.verdict.verdict != b.verdict.verdict,
        "iterations_a": a.iterations_completed, "iterations_b": b.iterations_completed,
        "differences": strategy_differences(a.spec, b.spec, a.child_info.tf_version, b.child_info.tf_version),
        "images_per_s_a": a.latency.images_per_s, "images_per_s_b": b.latency.images_per_s,
    }
    span = common_span(a, b)
    if span is None:
        return {**identity, "span": None, "span_words": "no measured iterations in one of the runs",
                "memory_outcome": "unknown", "latency_outcome": "unknown", "rss_slope_significant": False,
                "latency_significant": False, "latency_comparable": True}
    changes = [compare_series(series, series_in_span(strategy_a, a, series, span.first_iteration, span.last_iteration),
                              series_in_span(strategy_b, b, series, span.first_iteration, span.last_iteration))
               for series in compared_series(a, b)]
    change, conditions = compare_latency(a, b, strategy_a, strategy_b, span, run_a, run_b)
    return {**identity, "span": {"first_iteration": span.first_iteration, "last_iteration": span.last_iteration},
            "span_words": span.words, **memory_fields(changes),
            **_latency_fields(change, a, b, span, conditions)}
