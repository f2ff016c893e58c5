"""One strategy compared when each side is several runs (repeats) of its code: the common span of all of
them, memory judged pairing by pairing (analysis/repeated_memory.py), latency side against side with the
process-to-process spread measured (analysis/repeated_latency.py). Same row shape as a one-run compare
(analysis/comparison.py), plus the run folders of each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.comparison import (
    SPAN_QUANTILES,
    CommonSpan,
    conditions_row,
    last_measured_iteration,
    memory_fields,
    view_row,
    warmup_end,
)
from leakhunt.analysis.comparison_types import ComparisonRow, LatencyFields
from leakhunt.analysis.latency_change import LatencyChange
from leakhunt.analysis.latency_local import local_levels
from leakhunt.analysis.latency_span import latency_in_span
from leakhunt.analysis.memory_change import compared_series, series_in_span
from leakhunt.analysis.repeated_latency import RunLatency, judge_repeated_latency, side_conditions
from leakhunt.analysis.repeated_memory import compare_repeated_series
from leakhunt.analysis.run_differences import strategy_differences
from leakhunt.analysis.span_conditions import span_conditions
from leakhunt.analysis.strategy_analysis import StrategyAnalysis
from leakhunt.rundir.records import RunRecord


@dataclass(frozen=True)
class RunOfSide:
    """One run's view of the compared strategy: its analysis, its rundir.StrategyData, its run.json."""

    label: str
    analysis: StrategyAnalysis
    strategy: object
    record: RunRecord


def common_span_of(runs_a: list[RunOfSide], runs_b: list[RunOfSide]) -> CommonSpan | None:
    """From the latest warm-up end to the end of the shortest run, over every run of both sides."""
    every = [("A", run) for run in runs_a] + [("B", run) for run in runs_b]
    lasts = [(last_measured_iteration(run.analysis), side, run.label) for side, run in every]
    if any(last is None for last, _, _ in lasts):
        return None
    last, side, label = min((int(last), side, label) for last, side, label in lasts if last is not None)
    first = max(warmup_end(run.analysis) for _, run in every)
    if first >= last:
        first = 0
    start = "from the first measured iteration" if first == 0 else "from the latest warm-up end of any run"
    return CommonSpan(first, last, f"iterations {first}–{last}: {start} to the end of the shortest run "
                                   f"({side}: {label}), over {len(runs_a)} runs of A and {len(runs_b)} of B")


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return float(np.median(known)) if known else None


def _run_latency(run: RunOfSide, span: CommonSpan) -> RunLatency:
    first, last = span.first_iteration, span.last_iteration
    iterations = run.strategy.iterations  # type: ignore[attr-defined]
    warmup = run.analysis.warmup_steps
    wall, cpu = local_levels(iterations, warmup, first, last)
    return RunLatency(run.label, latency_in_span(run.analysis, first, last).at(0.5),
                      span_conditions(iterations, warmup, first, last), wall, cpu)


def _latency_fields(change: LatencyChange, runs_a: list[RunOfSide], runs_b: list[RunOfSide], span: CommonSpan,
                    latencies: tuple[list[RunLatency], list[RunLatency]]) -> LatencyFields:
    spans = {id(run): latency_in_span(run.analysis, span.first_iteration, span.last_iteration, SPAN_QUANTILES)
             for run in runs_a + runs_b}  # each run's span percentiles read once

    def percentile(runs: list[RunOfSide], quantile: float) -> float | None:
        return _median([spans[id(run)].at(quantile) for run in runs])

    p50_a, p50_b = percentile(runs_a, 0.5), percentile(runs_b, 0.5)
    wall = change.views[0] if change.views else None
    decided = [view for view in change.views if view.decides]
    conditions_a, conditions_b = (conditions_row(side_conditions(latencies[0])),
                                    conditions_row(side_conditions(latencies[1])))
    return {
        "latency_outcome": change.outcome, "latency_in_words": change.words, "cpu_bound": change.cpu_bound,
        "latency_views": [view_row(view) for view in change.views],
        "latency_p50_a_ms": p50_a, "latency_p50_b_ms": p50_b,
        "latency_p99_a_ms": percentile(runs_a, 0.99), "latency_p99_b_ms": percentile(runs_b, 0.99),
        "latency_p50_delta_ms": None if p50_a is None or p50_b is None else p50_b - p50_a,
        "latency_p50_relative_change": None if wall is None else wall.raw_ratio - 1,
        "latency_net_change": None if not decided else decided[-1].ratio - 1,
        "latency_significant": change.outcome in ("slower", "faster"),
        "latency_comparable": change.outcome != "not comparable",
        "latency_not_comparable_reason": change.not_comparable_reason,
        "reference_p50_a_ms": conditions_a["reference_ms"], "reference_p50_b_ms": conditions_b["reference_ms"],
        "conditions_a": conditions_a, "conditions_b": conditions_b,
    }


def compare_repeated_strategy(runs_a: list[RunOfSide], runs_b: list[RunOfSide]) -> ComparisonRow:
    """One strategy matched by name in every run of both sides."""
    first_a, first_b = runs_a[0].analysis, runs_b[0].analysis
    row: ComparisonRow = {
        "name": first_b.name, "verdict_a": _verdicts(runs_a), "verdict_b": _verdicts(runs_b),
        "verdict_changed": {run.analysis.verdict.verdict for run in runs_a}
        != {run.analysis.verdict.verdict for run in runs_b},
        "iterations_a": min(run.analysis.iterations_completed for run in runs_a),
        "iterations_b": min(run.analysis.iterations_completed for run in runs_b),
        "differences": strategy_differences(first_a.spec, first_b.spec, first_a.child_info.tf_version,
                                            first_b.child_info.tf_version),
        "images_per_s_a": _median([run.analysis.latency.images_per_s for run in runs_a]),
        "images_per_s_b": _median([run.analysis.latency.images_per_s for run in runs_b]),
        "runs_a": [run.label for run in runs_a], "runs_b": [run.label for run in runs_b],
        "span": None, "span_words": "no measured iterations in one of the runs", "memory_outcome": "unknown",
        "latency_outcome": "unknown", "rss_slope_significant": False, "latency_significant": False,
        "latency_comparable": True,
    }
    span = common_span_of(runs_a, runs_b)
    if span is None:
        return row
    first, last = span.first_iteration, span.last_iteration
    series_names = tuple(dict.fromkeys(name for a in runs_a for b in runs_b
                                       for name in compared_series(a.analysis, b.analysis)))
    changes = [compare_repeated_series(
        name, [series_in_span(run.strategy, run.analysis, name, first, last) for run in runs_a],
        [series_in_span(run.strategy, run.analysis, name, first, last) for run in runs_b]) for name in series_names]
    latencies = ([_run_latency(run, span) for run in runs_a], [_run_latency(run, span) for run in runs_b])
    change = _different_cpus(runs_a, runs_b) or judge_repeated_latency(*latencies)
    return {**row, "span": {"first_iteration": first, "last_iteration": last}, "span_words": span.words,
            **memory_fields(changes), **_latency_fields(change, runs_a, runs_b, span, latencies)}


def _different_cpus(runs_a: list[RunOfSide], runs_b: list[RunOfSide]) -> LatencyChange | None:
    cpus = {run.record.cpu for run in runs_a + runs_b if run.record.cpu}
    if len(cpus) < 2:
        return None
    reason = f"different CPUs ({', '.join(sorted(cpus))})"
    return LatencyChange("not comparable", (), f"not comparable: {reason}", False, reason)


def _verdicts(runs: list[RunOfSide]) -> str:
    """"leak" when every run says so; "leak ×2, flat ×1" when they differ."""
    verdicts = [run.analysis.verdict.verdict for run in runs]
    counts = {verdict: verdicts.count(verdict) for verdict in dict.fromkeys(verdicts)}
    if len(counts) == 1:
        return verdicts[0]
    return ", ".join(f"{verdict} ×{count}" for verdict, count in counts.items())
