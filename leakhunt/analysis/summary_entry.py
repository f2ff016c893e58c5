"""The summary.json entry of one strategy, built from its StrategyAnalysis.

Plain values only (numbers, strings, lists, dicts); rounding and JSON encoding are the JSON renderer's job.
Field order is part of the format: the entry is assembled from groups in the order docs/summary-schema.md
lists them.
"""

from __future__ import annotations

import numpy as np

from leakhunt.analysis.latency import ITERATIONS_PER_DRIFT_UNIT, LatencyStats
from leakhunt.analysis.leak import GrowthEstimate
from leakhunt.analysis.strategy_analysis import StrategyAnalysis
from leakhunt.analysis.summary_types import (
    DetailFields,
    DriftFields,
    FullCollectionsSummary,
    LatencyFields,
    OtherSeriesFields,
    OutcomeFields,
    PostCollectionSummary,
    ProjectionSummary,
    RssFields,
    SeriesSummary,
    StrategySummary,
    VerdictFields,
)
from leakhunt.analysis.verdict import MemoryJudgement


def _int_or_none(value: float | None) -> int | None:
    return None if value is None or not np.isfinite(value) else int(round(value))


def _fit_ci(estimate: GrowthEstimate | None) -> list[float] | None:
    """A series' slope interval, [low, high] (summary.json's `*_slope_ci95_bytes_per_iter`)."""
    fit = estimate.fit if estimate is not None else None
    return None if fit is None else [fit.ci_low, fit.ci_high]


def _fit_slope(estimate: GrowthEstimate | None) -> float | None:
    return None if estimate is None or estimate.fit is None else estimate.fit.slope


def _deciding_slope_bytes(deciding: GrowthEstimate | None, rss: GrowthEstimate | None) -> float | None:
    """The deciding series' slope in bytes; for a count (Python blocks) the RSS slope stands in."""
    if deciding is not None and deciding.unit == "bytes":
        return _fit_slope(deciding)
    return _fit_slope(rss)


def _series_entry(estimate: GrowthEstimate, judgement: MemoryJudgement | None) -> SeriesSummary:
    fit, early, recent = estimate.fit, estimate.early_fit, estimate.recent_fit
    return {
        "unit": estimate.unit,
        "growth_floor": estimate.growth_floor,
        "verdict": None if judgement is None else judgement.verdict,
        "pattern": None if judgement is None else judgement.pattern,
        "reason": None if judgement is None else judgement.reason,
        "more_iterations_needed": None if judgement is None else judgement.more_iterations_needed,
        "slope_bytes_per_iter": None if fit is None else fit.slope,
        "slope_ci95_bytes_per_iter": None if fit is None else [fit.ci_low, fit.ci_high],
        "early_slope_bytes_per_iter": None if early is None else early.slope,
        "recent_slope_bytes_per_iter": None if recent is None else recent.slope,
        "recent_slope_ci95_bytes_per_iter": None if recent is None else [recent.ci_low, recent.ci_high],
        "growth_bytes": _int_or_none(estimate.growth_bytes),
        "start_level_bytes": _int_or_none(estimate.start_level_bytes),
        "end_level_bytes": _int_or_none(estimate.end_level_bytes),
        "peak_bytes": _int_or_none(estimate.peak_bytes),
        "noise_floor_bytes_per_iter": estimate.noise_floor_bytes_per_iter,
        "noise_sigma_bytes": estimate.noise_sigma_bytes,
        "warmup_end_iteration": estimate.warmup_end_iteration,
        "first_iteration": estimate.first_iteration,
        "last_iteration": estimate.last_iteration,
        "samples_judged": estimate.samples_judged,
        "post_collection": _survival_entry(estimate),
    }


def _survival_entry(estimate: GrowthEstimate) -> PostCollectionSummary | None:
    """What the forced full collections said of this series' growth (None: no post-collection points)."""
    survival = estimate.survival
    if survival is None:
        return None
    return {"status": survival.status, "points": survival.points_used,
            "slope_bytes_per_iter": survival.post_slope_per_iter, "most_freed_bytes": survival.most_freed,
            "most_freed_at_iteration": survival.most_freed_iteration}


def _stop_delay_ms(analysis: StrategyAnalysis) -> float | None:
    """How long after the parent's stop request the child's loop ended (--until-decided)."""
    requested, ended = analysis.status.stop_requested_monotonic_s, analysis.child_info.loop_ended_monotonic_s
    return None if requested is None or ended is None else max(ended - requested, 0.0) * 1e3


def _full_collections_entry(analysis: StrategyAnalysis) -> FullCollectionsSummary | None:
    collections = analysis.full_collections
    if collections is None:
        return None
    return {"forced": collections.forced, "skipped_for_budget": collections.skipped_for_budget,
            "seconds": collections.seconds, "automatic": collections.auto, "note": collections.note}


def _drift_fields(latency: LatencyStats) -> DriftFields:
    """The drift test's evidence: raw and reference-corrected trends, and the reference itself."""
    drift = latency.drift
    raw = None if drift is None else drift.raw
    corrected = None if drift is None else drift.corrected
    corrected_fit = None if corrected is None else corrected.fit
    return {
        "latency_faster_over_run": latency.faster_over_run,
        "latency_change_first_to_last_fifth": None if raw is None else raw.change_first_to_last_fifth,
        "latency_window_medians_ms": None if raw is None else list(raw.window_medians_ms),
        "latency_trend_tau": None if raw is None else raw.tau,
        "latency_corrected_change_first_to_last_fifth": (None if corrected is None
                                                         else corrected.change_first_to_last_fifth),
        "latency_corrected_window_medians_ms": None if corrected is None else list(corrected.window_medians_ms),
        "latency_corrected_trend_tau": None if corrected is None else corrected.tau,
        "latency_corrected_drift_ms_per_1k_iter": (None if corrected_fit is None
                                                   else corrected_fit.slope * ITERATIONS_PER_DRIFT_UNIT),
        "reference_p50_ms": None if drift is None else drift.reference_p50_ms,
        "reference_readings": 0 if drift is None else drift.reference_readings,
        "machine_change_first_to_last_fifth": None if drift is None else drift.machine_change_first_to_last_fifth,
        "latency_drift_judged": drift is not None and drift.judged,
    }


def _verdict_covers(iterations_completed: int, stopped_early: bool, settled_at: int | None = None) -> str:
    """The iterations the verdict was judged on: with --until-decided, exactly those the settling look read (the
    child stops within milliseconds of the decision; the few iterations it ran on are not judged)."""
    last = (settled_at if settled_at is not None else iterations_completed) - 1
    covers = f"iterations 0..{max(last, 0)}"
    return covers + (", assuming the behaviour seen continues" if stopped_early else "")


def _verdict_fields(analysis: StrategyAnalysis) -> VerdictFields:
    """Who the strategy is and what was decided, on which series."""
    rss = analysis.estimates.get("rss")
    deciding = analysis.verdict.deciding_series
    deciding_estimate = analysis.estimates.get(deciding) if deciding else None
    return {
        "name": analysis.name,
        "index": analysis.index,
        "folder": analysis.folder_name,
        "verdict": analysis.verdict.verdict,
        "verdict_reason": analysis.verdict.reason,
        "memory_verdict": analysis.verdict.memory_verdict,
        "pattern": analysis.verdict.pattern,
        "deciding_series": deciding,
        "deciding_slope_bytes_per_iter": _deciding_slope_bytes(deciding_estimate, rss),
    }


def _outcome_fields(analysis: StrategyAnalysis) -> OutcomeFields:
    """How the child ended, and the workload's exception if it raised one."""
    status, error = analysis.status, analysis.error
    return {
        "outcome": status.outcome,
        "description": status.description,
        "exit_code": status.exit_code,
        "signal_name": status.signal_name,
        "memory_limit_hit": status.memory_limit_hit,
        "error_text": None if error is None else error.text,
        "error": None if error is None else {"type": error.type, "message": error.message,
                                             "traceback": error.traceback},
    }


def _rss_fields(analysis: StrategyAnalysis) -> RssFields:
    """The span judged and the RSS series' growth, the series most readers look at first."""
    rss = analysis.estimates.get("rss")
    return {
        "iterations_completed": analysis.iterations_completed,
        "warmup_steps": analysis.warmup_steps,
        "warmup_end_iteration": None if rss is None else rss.warmup_end_iteration,
        "judged_iterations": None if rss is None else rss.judged_span_iterations,
        "samples_judged": 0 if rss is None else rss.samples_judged,
        "rss_slope_bytes_per_iter": _fit_slope(rss),
        "rss_slope_ci95_bytes_per_iter": _fit_ci(rss),
        "rss_growth_bytes": None if rss is None else _int_or_none(rss.growth_bytes),
        "rss_early_slope_bytes_per_iter": None if rss is None or rss.early_fit is None else rss.early_fit.slope,
        "rss_recent_slope_bytes_per_iter": None if rss is None or rss.recent_fit is None else rss.recent_fit.slope,
        "noise_floor_bytes_per_iter": None if rss is None else rss.noise_floor_bytes_per_iter,
        "more_iterations_needed": analysis.verdict.more_iterations_needed if analysis.verdict.memory_verdict
        == "inconclusive" else None,
    }


def _other_series_fields(analysis: StrategyAnalysis) -> OtherSeriesFields:
    """The other memory series' slopes, the deciding one's in its own unit, and the peaks."""
    deciding = analysis.verdict.deciding_series
    deciding_estimate = analysis.estimates.get(deciding) if deciding else None
    uss, gpu, tf_current, heap = (analysis.estimates.get(series) for series in ("uss", "gpu_process", "tf_current",
                                                                                  "heap"))
    return {
        "uss_slope_bytes_per_iter": _fit_slope(uss), "uss_slope_ci95_bytes_per_iter": _fit_ci(uss),
        "gpu_process_slope_bytes_per_iter": _fit_slope(gpu), "gpu_process_slope_ci95_bytes_per_iter": _fit_ci(gpu),
        "tf_current_slope_bytes_per_iter": _fit_slope(tf_current),
        "tf_current_slope_ci95_bytes_per_iter": _fit_ci(tf_current),
        "heap_slope_bytes_per_iter": _fit_slope(heap), "heap_slope_ci95_bytes_per_iter": _fit_ci(heap),
        "py_blocks_slope_per_iter": _fit_slope(analysis.estimates.get("py_blocks")),
        "deciding_slope_per_iter": _fit_slope(deciding_estimate),
        "deciding_unit": None if deciding_estimate is None else deciding_estimate.unit,
        "rss_source": analysis.rss_source,
        "gpu_process_attribution": analysis.status.gpu_process_attribution,
        "peak_rss_bytes": _int_or_none(analysis.peak_rss_bytes),
        "peak_uss_bytes": _int_or_none(analysis.peak_uss_bytes),
        "peak_gpu_bytes": _int_or_none(analysis.peak_gpu_bytes),
    }


def _latency_fields(analysis: StrategyAnalysis) -> LatencyFields:
    """Latency percentiles, throughput, and the drift test with its evidence."""
    latency = analysis.latency
    return {
        "latency_ms": {"p50": latency.p50_ms, "p90": latency.p90_ms, "p99": latency.p99_ms,
                       "max": latency.max_ms, "mean": latency.mean_ms},
        "latency_count": latency.count,
        "images_per_step": analysis.images_per_step,
        "images_per_s": latency.images_per_s,
        "latency_drift_ms_per_1k_iter": latency.drift_ms_per_1k_iter,
        "latency_drift_ci95_ms_per_1k_iter": (None if latency.drift_ci95_ms_per_1k_iter is None
                                              else list(latency.drift_ci95_ms_per_1k_iter)),
        "latency_drift_significant": latency.drift_significant,
    }


def _projection_entries(analysis: StrategyAnalysis) -> dict[str, ProjectionSummary]:
    return {p.resource: {
        "capacity_bytes": _int_or_none(p.capacity_bytes), "headroom_bytes": _int_or_none(p.headroom_bytes),
        "slope_bytes_per_iter": p.slope_bytes_per_iter,
        "iterations_to_exhaust": _int_or_none(p.iterations_to_exhaust),
        "time_to_exhaust_s": p.time_to_exhaust_s} for p in analysis.projections}


def _detail_fields(analysis: StrategyAnalysis) -> DetailFields:
    """Projections, hints, every series' entry, the strategy and child, and how long the run went."""
    status, spec = analysis.status, analysis.spec
    rss_judgement = analysis.judgements.get("rss")
    stopped_early = status.stopped_early
    return {
        "projection": _projection_entries(analysis),
        "hints": [{"kind": h.kind, "evidence": h.evidence, "advice": h.advice} for h in analysis.hints],
        "memory": {series: _series_entry(estimate, analysis.judgements.get(series))
                   for series, estimate in analysis.estimates.items() if estimate is not None},
        "rss_verdict": None if rss_judgement is None else rss_judgement.verdict,
        "strategy": {"description": spec.get("description", ""), "code_pattern": spec.get("code_pattern", ""),
                     "factory": spec.get("factory"), "factory_kwargs": spec.get("factory_kwargs") or {}},
        "child": {"build_time_s": analysis.child_info.build_time_s, "tf_version": analysis.child_info.tf_version,
                  "notes": list(analysis.child_info.notes)},
        "wall_time_s": status.wall_time_s,
        # Where it ran (node, host, GPUs) with --backend ray; None for a local run.
        "placement": spec.get("placement"),
        "stopped_early": stopped_early,
        "stop_reason": status.stop_reason or f"ran to {analysis.iterations_completed}",
        "verdict_covers": _verdict_covers(analysis.iterations_completed, stopped_early,
                                          analysis.settled_at_iteration),
        "settled_at_iteration": analysis.settled_at_iteration,
        "stop_delay_ms": _stop_delay_ms(analysis),
        "full_collections": _full_collections_entry(analysis),
        # Where the leak is, line by line: the attribution pass (docs/summary-schema.md#attribution).
        "attribution": analysis.attribution,
    }


def strategy_summary(analysis: StrategyAnalysis) -> StrategySummary:
    """The summary.json entry of one strategy (field order is part of the format)."""
    return {
        **_verdict_fields(analysis),
        **_outcome_fields(analysis),
        **_rss_fields(analysis),
        **_other_series_fields(analysis),
        **_latency_fields(analysis),
        **_drift_fields(analysis.latency),
        **_detail_fields(analysis),
    }
