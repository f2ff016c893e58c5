"""One strategy judged: growth estimates of every memory series, their verdicts, latency, counters, projections
and hints, gathered in a StrategyAnalysis (what the summary entry, the plots and comparisons read)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leakhunt.analysis.attribution import AttributionContext, attribution_entry
from leakhunt.analysis.attribution_types import AttributionSummary
from leakhunt.analysis.garbage import with_retained_garbage, with_stopped_warmup
from leakhunt.analysis.hints import CounterGrowth, Hint, counter_growth, find_hints
from leakhunt.analysis.latency import LatencyStats, history_latency_stats
from leakhunt.analysis.latency_history import LatencyHistory, latency_history
from leakhunt.analysis.leak import GrowthEstimate, estimate_growth, iteration_series, memory_series
from leakhunt.analysis.post_collection import FullCollections, full_collections, post_collection_points
from leakhunt.analysis.projection import Exhaustion, project_exhaustion
from leakhunt.analysis.settle import SETTLE_SERIES
from leakhunt.analysis.strategy_data import (
    blocks_within_settled_span,
    child_info_of,
    column_last,
    column_max,
    cpu_readings,
    error_of,
    forced_collection_seconds,
    iterations_completed_of,
    judged_samples,
    status_of,
    warmup_steps_of,
    within_settled_span,
)
from leakhunt.analysis.verdict import (
    JUDGED_SERIES,
    MIN_JUDGED_ITERATIONS,
    MIN_JUDGED_SAMPLES,
    MemoryJudgement,
    Verdict,
    judge_growth,
    names_python_leak,
    round_up_roughly,
    strategy_verdict,
)
from leakhunt.rundir.config import DEFAULT_SAMPLE_INTERVAL_S
from leakhunt.rundir.records import ChildInfo, ErrorRecord, RunRecord, StatusRecord
from leakhunt.rundir.run_json import HostJson

# Parent-sampled series (samples.csv column) and child-read ones (iterations.csv column, iteration-aligned).
# "rss" is the child's own RSS read at the end of a step; run folders written before the child read itself
# (or a child that died before its first reading) fall back to the parent's samples for it.
SAMPLED_SERIES = {"rss_parent": "rss_bytes", "uss": "uss_bytes", "gpu_process": "gpu_process_bytes",
                  "gpu_used": "gpu_used_bytes"}
CHILD_SERIES = SETTLE_SERIES  # the child's iteration-aligned series: the same ones settle a verdict
COUNTERS = ("graph_ops", "tracing_count", "gc_objects")


@dataclass(frozen=True)
class StrategyAnalysis:
    """Everything judged about one strategy, plus the series the plots and comparisons need."""

    index: int
    name: str
    folder_name: str
    spec: dict[str, Any]
    status: StatusRecord
    child_info: ChildInfo
    error: ErrorRecord | None
    warmup_steps: int
    iterations_completed: int
    estimates: dict[str, GrowthEstimate | None]
    judgements: dict[str, MemoryJudgement]
    verdict: Verdict
    latency: LatencyStats
    latency_iteration: np.ndarray  # the steps with a row of their own (every step, unless the run has blocks)
    latency_ms: np.ndarray
    counters: dict[str, CounterGrowth | None]
    projections: tuple[Exhaustion, ...]
    hints: tuple[Hint, ...]
    peak_rss_bytes: float | None
    peak_uss_bytes: float | None
    peak_gpu_bytes: float | None
    images_per_step: float
    attribution: AttributionSummary  # summary.json's `attribution`
    rss_source: str = "child"  # "child" (iteration-aligned readings) or "parent" (steady-clock samples)
    reference_iteration: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    reference_ms: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    full_collections: FullCollections | None = None  # the child's forced and automatic full collections
    settled_at_iteration: int | None = None  # --until-decided: the iterations the settling look judged
    latency_history: LatencyHistory | None = None  # every measured step's latency: rows and blocks


def _with_sampler_pace(judgement: MemoryJudgement, run: RunRecord, latency: LatencyStats,
                       measured_iterations: int) -> MemoryJudgement:
    """A loop faster than the sampler leaves too few samples: say how many iterations give enough of them."""
    if judgement.pattern not in ("short", "no-data") or not latency.seconds_per_iteration:
        return judgement
    interval_s = run.sample_interval_s or DEFAULT_SAMPLE_INTERVAL_S
    wanted = max(MIN_JUDGED_ITERATIONS, MIN_JUDGED_SAMPLES * float(interval_s) / latency.seconds_per_iteration)
    more = wanted - measured_iterations
    if more <= (judgement.more_iterations_needed or 0):
        return judgement
    return dataclasses.replace(judgement, more_iterations_needed=round_up_roughly(more))


def _growth_estimates(iterations: pd.DataFrame, samples: pd.DataFrame, warmup_steps: int,
                      collections: pd.DataFrame | None = None) -> tuple[dict[str, GrowthEstimate | None], str]:
    """Every memory series' growth estimate, and where RSS came from ("child", or "parent" when the child's
    own readings were too few). The child's series are judged net of garbage where it ran forced collections."""
    estimates: dict[str, GrowthEstimate | None] = {}
    with_collections = collections is not None and not collections.empty
    for series, (column, kind) in CHILD_SERIES.items():
        points = post_collection_points(collections, series, warmup_steps) if with_collections else None
        estimates[series] = estimate_growth(series, *iteration_series(iterations, column, warmup_steps), kind=kind,
                                            post_points=points)
    for series, column in SAMPLED_SERIES.items():
        estimates[series] = estimate_growth(series, *memory_series(samples, column, warmup_steps))
    rss_source = "child"
    rss, rss_parent = estimates["rss"], estimates["rss_parent"]
    if (rss is None or rss.samples_judged < MIN_JUDGED_SAMPLES) and rss_parent is not None:
        estimates["rss"] = dataclasses.replace(rss_parent, series="rss")
        rss_source = "parent"
    return estimates, rss_source


def _projections(estimates: dict[str, GrowthEstimate | None], judgements: dict, samples: pd.DataFrame,
                 host: HostJson, seconds_per_iteration) -> list:
    """When host or GPU memory runs out at the leak's rate (only for a series judged a leak)."""
    projections = []
    rss_estimate = estimates.get("rss")
    if rss_estimate is not None and rss_estimate.fit is not None and judgements["rss"].verdict == "leak":
        projected = project_exhaustion("host_memory", host.get("available_memory_bytes"),
                                       column_last(samples, "rss_bytes"), rss_estimate.fit.slope,
                                       seconds_per_iteration)
        if projected is not None:
            projections.append(projected)
    gpu_series = "gpu_process" if estimates.get("gpu_process") is not None else "gpu_used"
    gpu_estimate = estimates.get(gpu_series)
    gpu_judgement = judgements.get(gpu_series)
    if gpu_estimate is not None and gpu_estimate.fit is not None and gpu_judgement is not None \
            and gpu_judgement.verdict == "leak":
        capacity = column_last(samples, "gpu_total_bytes") or host.get("gpu_total_bytes")
        used = column_last(samples, "gpu_used_bytes") or column_last(samples, "gpu_process_bytes")
        projected = project_exhaustion("gpu_memory", capacity, used, gpu_estimate.fit.slope, seconds_per_iteration)
        if projected is not None:
            projections.append(projected)
    return projections


def analyze_strategy(strategy, run: RunRecord) -> StrategyAnalysis:
    """Analyse one rundir.StrategyData (duck-typed: spec, status, child_info, error, iterations, samples)."""
    iterations: pd.DataFrame = strategy.iterations
    samples = judged_samples(strategy)
    status = status_of(strategy)
    child_info = child_info_of(strategy)
    spec = strategy.spec if isinstance(strategy.spec, dict) else {}
    warmup_steps = warmup_steps_of(run, iterations)
    outcome = status.outcome
    iterations = within_settled_span(iterations, "step", status, warmup_steps)
    samples = within_settled_span(samples, "steps_done", status, warmup_steps)
    collections = within_settled_span(getattr(strategy, "collections", pd.DataFrame()), "step", status, warmup_steps)
    blocks = blocks_within_settled_span(getattr(strategy, "latency_blocks", None), status, warmup_steps)

    estimates, rss_source = _growth_estimates(iterations, samples, warmup_steps, collections)
    attribution_unavailable = (status.gpu_process_attribution or "available").startswith("unavailable")
    if attribution_unavailable:
        # NVML could not attribute GPU memory to the child (host PIDs in a container): its zeros are not
        # data. The device's used memory stands in; it is valid because one strategy has the device alone.
        estimates["gpu_process"] = None
    judgements = {series: judge_growth(estimate) for series, estimate in estimates.items() if estimate is not None}
    judgements = with_stopped_warmup(with_retained_garbage(judgements, estimates), estimates)
    if "rss" not in judgements:
        judgements["rss"] = judge_growth(None)

    images_per_step = child_info.images_per_step
    history = latency_history(iterations, blocks, warmup_steps)
    reference_iteration, reference_ms = iteration_series(iterations, "reference_ms", warmup_steps)
    latency = history_latency_stats(history, images_per_step, reference_iteration, reference_ms,
                                    cpu_readings(iterations, warmup_steps),
                                    paused_s=forced_collection_seconds(collections, warmup_steps))
    if rss_source == "parent":
        judgements["rss"] = _with_sampler_pace(judgements["rss"], run, latency, history.count)
    judged_series = JUDGED_SERIES + (("gpu_used",) if attribution_unavailable else ())
    verdict = strategy_verdict(outcome, judgements, judged_series, names_python_leak(estimates))
    counters = {name: counter_growth(*iteration_series(iterations, name, warmup_steps)) for name in COUNTERS}

    peak_rss = column_max(samples, "rss_bytes")
    peak_gpu = column_max(samples, "gpu_process_bytes")
    if peak_gpu is None:
        peak_gpu = column_max(samples, "gpu_used_bytes")
    projections = _projections(estimates, judgements, samples, run.host, latency.seconds_per_iteration)

    hints = find_hints(judgements, counters, latency, outcome, status.description or "",
                       status.memory_limit_hit, peak_rss)
    attribution = _attribution(strategy, run, verdict, estimates, status, peak_rss)
    return StrategyAnalysis(
        index=strategy.index, name=str(strategy.name), folder_name=strategy.folder.name, spec=spec,
        status=status, child_info=child_info, error=error_of(strategy),
        warmup_steps=warmup_steps, iterations_completed=iterations_completed_of(status, iterations, blocks),
        estimates=estimates, judgements=judgements, verdict=verdict, latency=latency,
        latency_iteration=history.iteration, latency_ms=history.latency_ms, counters=counters,
        projections=tuple(projections), hints=tuple(hints), peak_rss_bytes=peak_rss,
        peak_uss_bytes=column_max(samples, "uss_bytes"), peak_gpu_bytes=peak_gpu,
        images_per_step=images_per_step, rss_source=rss_source, reference_iteration=reference_iteration,
        reference_ms=reference_ms, full_collections=full_collections(collections, iterations, warmup_steps),
        settled_at_iteration=status.settled_at_iteration, attribution=attribution, latency_history=history,
    )


def _attribution(strategy, run: RunRecord, verdict: Verdict, estimates: dict[str, GrowthEstimate | None],
                 status: StatusRecord, peak_rss: float | None) -> AttributionSummary:
    """The attribution pass's entry, judged against this verdict (leakhunt/analysis/attribution.py)."""
    deciding = estimates.get(verdict.deciding_series) if verdict.deciding_series else None
    if deciding is None or deciding.unit != "bytes":
        deciding = estimates.get("rss")
    growth = None if deciding is None or deciding.fit is None else deciding.fit.slope
    context = AttributionContext(attribute=str(run.config.get("attribute") or "auto"),
                                 memory_verdict=verdict.memory_verdict, strategy_growth_bytes_per_iter=growth,
                                 verdict_wall_s=status.wall_time_s, verdict_peak_rss_bytes=peak_rss)
    return attribution_entry(getattr(strategy, "attribution", None), getattr(strategy, "attribution_status", None),
                             context)
