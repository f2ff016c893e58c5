"""From a run folder's data (rundir.RunData) to per-strategy analyses and the summary dict.

The summary dict holds plain values only (numbers, strings, lists, dicts); rounding and JSON encoding are
the JSON renderer's job. docs/summary-schema.md documents every field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leakhunt.analysis.drift import CpuReadings
from leakhunt.analysis.hints import CounterGrowth, Hint, counter_growth, find_hints
from leakhunt.analysis.latency import ITERATIONS_PER_DRIFT_UNIT, LatencyStats, latency_stats, measured_latency
from leakhunt.analysis.leak import GrowthEstimate, estimate_growth, iteration_series, memory_series
from leakhunt.analysis.projection import Exhaustion, project_exhaustion
from leakhunt.analysis.settle import SETTLE_SERIES
from leakhunt.analysis.verdict import (
    JUDGED_SERIES,
    MIN_JUDGED_ITERATIONS,
    MIN_JUDGED_SAMPLES,
    MemoryJudgement,
    Verdict,
    judge_growth,
    round_up_roughly,
    strategy_verdict,
)
from leakhunt.config import DEFAULT_SAMPLE_INTERVAL_S

SUMMARY_FORMAT_VERSION = 1
# Parent-sampled series (samples.csv column) and child-read ones (iterations.csv column, iteration-aligned).
# "rss" is the child's own RSS read at the end of a step; run folders written before the child read itself
# (or a child that died before its first reading) fall back to the parent's samples for it.
SAMPLED_SERIES = {"rss_parent": "rss_bytes", "uss": "uss_bytes", "gpu_process": "gpu_process_bytes",
                  "gpu_used": "gpu_used_bytes"}
CHILD_SERIES = SETTLE_SERIES  # the child's iteration-aligned series: the same ones settle a verdict
COUNTERS = ("graph_ops", "tracing_count", "gc_objects")
RUN_CONFIG_FIELDS = ("iterations", "until_decided", "duration_s", "warmup_steps", "sample_interval_s",
                     "signal_every_steps",
                     "fail_on_leak", "leak_threshold_bytes_per_iter", "iteration_timeout_s", "memory_limit_bytes")


@dataclass(frozen=True)
class StrategyAnalysis:
    """Everything judged about one strategy, plus the series the plots and comparisons need."""

    index: int
    name: str
    folder_name: str
    spec: dict[str, Any]
    status: dict[str, Any]
    child_info: dict[str, Any]
    error: dict[str, Any] | None
    warmup_steps: int
    iterations_completed: int
    estimates: dict[str, GrowthEstimate | None]
    judgements: dict[str, MemoryJudgement]
    verdict: Verdict
    latency: LatencyStats
    latency_iteration: np.ndarray
    latency_ms: np.ndarray
    counters: dict[str, CounterGrowth | None]
    projections: tuple[Exhaustion, ...]
    hints: tuple[Hint, ...]
    peak_rss_bytes: float | None
    peak_uss_bytes: float | None
    peak_gpu_bytes: float | None
    images_per_step: float
    rss_source: str = "child"  # "child" (iteration-aligned readings) or "parent" (steady-clock samples)
    reference_iteration: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))
    reference_ms: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))


def _column_max(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.empty:
        return None
    values = pd.to_numeric(frame[column], errors="coerce")
    value = values.max(skipna=True)
    return None if pd.isna(value) else float(value)


def _column_last(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.empty:
        return None
    values = pd.to_numeric(frame[column], errors="coerce").dropna()
    return None if values.empty else float(values.iloc[-1])


def warmup_steps_of(meta: dict[str, Any], iterations: pd.DataFrame | None = None) -> int:
    """The explicit warm-up: run.json's config.warmup_steps, else the count of phase=="warmup" rows."""
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    value = config.get("warmup_steps")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return int(value)
    if iterations is not None and "phase" in iterations.columns:
        return int((iterations["phase"].astype(str) == "warmup").sum())
    return 0


def _images_per_step(child_info: dict[str, Any]) -> float:
    value = child_info.get("images_per_step")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 1.0


def _iterations_completed(status: dict[str, Any], iterations: pd.DataFrame) -> int:
    value = status.get("iterations_completed")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if "phase" in iterations.columns:
        return int((iterations["phase"].astype(str) == "measure").sum())
    return int(len(iterations))


def samples_during_loop(samples: pd.DataFrame, iterations: pd.DataFrame,
                        close_started_s: float | None = None) -> pd.DataFrame:
    """Drop samples taken once the child began tearing down (close()), not while the loop's state stood.

    Parent and child read the same system-wide monotonic clock, so the child's step times bound the loop.
    The child lingers after its last step so the parent can sample the final state; it records when it
    began close() in child.json (`close_started_monotonic_s`), which is the cut when present.
    """
    if close_started_s is not None and not samples.empty and "t_monotonic_s" in samples.columns:
        times = pd.to_numeric(samples["t_monotonic_s"], errors="coerce")
        return samples[~(times > close_started_s)]
    needed = {"start_monotonic_s", "latency_ms"}
    if samples.empty or iterations.empty or not needed <= set(iterations.columns) \
            or "t_monotonic_s" not in samples.columns:
        return samples
    ends = (pd.to_numeric(iterations["start_monotonic_s"], errors="coerce")
            + pd.to_numeric(iterations["latency_ms"], errors="coerce") / 1000.0)
    loop_end_s = ends.max(skipna=True)
    if pd.isna(loop_end_s):
        return samples
    times = pd.to_numeric(samples["t_monotonic_s"], errors="coerce")
    return samples[~(times > loop_end_s)]


def _with_sampler_pace(judgement: MemoryJudgement, meta: dict[str, Any], latency: LatencyStats,
                       measured_iterations: int) -> MemoryJudgement:
    """A loop faster than the sampler leaves too few samples: say how many iterations give enough of them."""
    if judgement.pattern not in ("short", "no-data") or not latency.seconds_per_iteration:
        return judgement
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    interval_s = config.get("sample_interval_s") or DEFAULT_SAMPLE_INTERVAL_S
    wanted = max(MIN_JUDGED_ITERATIONS, MIN_JUDGED_SAMPLES * float(interval_s) / latency.seconds_per_iteration)
    more = wanted - measured_iterations
    if more <= (judgement.more_iterations_needed or 0):
        return judgement
    return dataclasses.replace(judgement, more_iterations_needed=round_up_roughly(more))


def cpu_readings(iterations: pd.DataFrame, warmup_steps: int) -> CpuReadings | None:
    """The child's process CPU time at its reading steps, with the wall clock at the end of those steps."""
    needed = {"process_cpu_s", "start_monotonic_s", "latency_ms", "step"}
    if iterations.empty or not needed <= set(iterations.columns):
        return None
    rows = iterations.dropna(subset=["process_cpu_s"])
    if len(rows) < 2:
        return None
    steps = pd.to_numeric(rows["step"], errors="coerce").to_numpy(dtype=float)
    wall = (pd.to_numeric(rows["start_monotonic_s"], errors="coerce")
            + pd.to_numeric(rows["latency_ms"], errors="coerce") / 1000.0).to_numpy(dtype=float)
    cpu = pd.to_numeric(rows["process_cpu_s"], errors="coerce").to_numpy(dtype=float)
    measured = steps >= warmup_steps
    return CpuReadings(steps[measured] - warmup_steps, wall[measured], cpu[measured])


def judged_samples(strategy) -> pd.DataFrame:
    """The samples that show the loop's state: a completed child's teardown is cut off (plots use this too)."""
    samples: pd.DataFrame = strategy.samples
    status = strategy.status if isinstance(strategy.status, dict) else {}
    if str(status.get("outcome", "unknown")) != "completed":
        # Only a completed child wrote all its steps; after a crash the last second may be missing.
        return samples
    child_info = strategy.child_info if isinstance(strategy.child_info, dict) else {}
    close_started_s = child_info.get("close_started_monotonic_s")
    return samples_during_loop(samples, strategy.iterations,
                               float(close_started_s) if isinstance(close_started_s, (int, float)) else None)


def _growth_estimates(iterations: pd.DataFrame, samples: pd.DataFrame,
                      warmup_steps: int) -> tuple[dict[str, GrowthEstimate | None], str]:
    """Every memory series' growth estimate, and where RSS came from ("child", or "parent" when the child's
    own readings were too few)."""
    estimates: dict[str, GrowthEstimate | None] = {}
    for series, (column, kind) in CHILD_SERIES.items():
        estimates[series] = estimate_growth(series, *iteration_series(iterations, column, warmup_steps), kind=kind)
    for series, column in SAMPLED_SERIES.items():
        estimates[series] = estimate_growth(series, *memory_series(samples, column, warmup_steps))
    rss_source = "child"
    rss, rss_parent = estimates["rss"], estimates["rss_parent"]
    if (rss is None or rss.samples_judged < MIN_JUDGED_SAMPLES) and rss_parent is not None:
        estimates["rss"] = dataclasses.replace(rss_parent, series="rss")
        rss_source = "parent"
    return estimates, rss_source


def _projections(estimates: dict[str, GrowthEstimate | None], judgements: dict, samples: pd.DataFrame,
                 host: dict, seconds_per_iteration) -> list:
    """When host or GPU memory runs out at the leak's rate (only for a series judged a leak)."""
    projections = []
    rss_estimate = estimates.get("rss")
    if rss_estimate is not None and rss_estimate.fit is not None and judgements["rss"].verdict == "leak":
        projected = project_exhaustion("host_memory", host.get("available_memory_bytes"),
                                       _column_last(samples, "rss_bytes"), rss_estimate.fit.slope,
                                       seconds_per_iteration)
        if projected is not None:
            projections.append(projected)
    gpu_series = "gpu_process" if estimates.get("gpu_process") is not None else "gpu_used"
    gpu_estimate = estimates.get(gpu_series)
    gpu_judgement = judgements.get(gpu_series)
    if gpu_estimate is not None and gpu_estimate.fit is not None and gpu_judgement is not None \
            and gpu_judgement.verdict == "leak":
        capacity = _column_last(samples, "gpu_total_bytes") or host.get("gpu_total_bytes")
        used = _column_last(samples, "gpu_used_bytes") or _column_last(samples, "gpu_process_bytes")
        projected = project_exhaustion("gpu_memory", capacity, used, gpu_estimate.fit.slope, seconds_per_iteration)
        if projected is not None:
            projections.append(projected)
    return projections


def analyze_strategy(strategy, meta: dict[str, Any]) -> StrategyAnalysis:
    """Analyse one rundir.StrategyData (duck-typed: spec, status, child_info, error, iterations, samples)."""
    iterations: pd.DataFrame = strategy.iterations
    samples = judged_samples(strategy)
    status = strategy.status if isinstance(strategy.status, dict) else {}
    child_info = strategy.child_info if isinstance(strategy.child_info, dict) else {}
    spec = strategy.spec if isinstance(strategy.spec, dict) else {}
    warmup_steps = warmup_steps_of(meta, iterations)
    outcome = str(status.get("outcome", "unknown"))

    estimates, rss_source = _growth_estimates(iterations, samples, warmup_steps)
    attribution = str(status.get("gpu_process_attribution", "available"))
    if attribution.startswith("unavailable"):
        # NVML could not attribute GPU memory to the child (host PIDs in a container): its zeros are not
        # data. The device's used memory stands in; it is valid because one strategy has the device alone.
        estimates["gpu_process"] = None
    judgements = {series: judge_growth(estimate) for series, estimate in estimates.items() if estimate is not None}
    if "rss" not in judgements:
        judgements["rss"] = judge_growth(None)

    images_per_step = _images_per_step(child_info)
    latency_iteration, latency_values, starts = measured_latency(iterations, warmup_steps)
    reference_iteration, reference_ms = iteration_series(iterations, "reference_ms", warmup_steps)
    latency = latency_stats(latency_iteration, latency_values, starts, images_per_step,
                            reference_iteration, reference_ms, cpu_readings(iterations, warmup_steps))
    if rss_source == "parent":
        judgements["rss"] = _with_sampler_pace(judgements["rss"], meta, latency, len(latency_values))
    judged_series = JUDGED_SERIES + (("gpu_used",) if attribution.startswith("unavailable") else ())
    verdict = strategy_verdict(outcome, judgements, judged_series)
    counters = {name: counter_growth(*iteration_series(iterations, name, warmup_steps)) for name in COUNTERS}

    peak_rss = _column_max(samples, "rss_bytes")
    peak_gpu = _column_max(samples, "gpu_process_bytes")
    if peak_gpu is None:
        peak_gpu = _column_max(samples, "gpu_used_bytes")
    host = meta.get("host") if isinstance(meta.get("host"), dict) else {}
    projections = _projections(estimates, judgements, samples, host, latency.seconds_per_iteration)

    hints = find_hints(judgements, counters, latency, outcome, str(status.get("description", "")),
                       bool(status.get("memory_limit_hit", False)), peak_rss)
    return StrategyAnalysis(
        index=strategy.index, name=str(strategy.name), folder_name=strategy.folder.name, spec=spec,
        status=status, child_info=child_info, error=strategy.error if isinstance(strategy.error, dict) else None,
        warmup_steps=warmup_steps, iterations_completed=_iterations_completed(status, iterations),
        estimates=estimates, judgements=judgements, verdict=verdict, latency=latency,
        latency_iteration=latency_iteration, latency_ms=latency_values, counters=counters,
        projections=tuple(projections), hints=tuple(hints), peak_rss_bytes=peak_rss,
        peak_uss_bytes=_column_max(samples, "uss_bytes"), peak_gpu_bytes=peak_gpu,
        images_per_step=images_per_step, rss_source=rss_source, reference_iteration=reference_iteration,
        reference_ms=reference_ms,
    )


def _int_or_none(value: float | None) -> int | None:
    return None if value is None or not np.isfinite(value) else int(round(value))


def _slope_fields(prefix: str, estimate: GrowthEstimate | None) -> dict[str, Any]:
    fit = estimate.fit if estimate is not None else None
    return {
        f"{prefix}_slope_bytes_per_iter": None if fit is None else fit.slope,
        f"{prefix}_slope_ci95_bytes_per_iter": None if fit is None else [fit.ci_low, fit.ci_high],
    }


def _fit_slope(estimate: GrowthEstimate | None) -> float | None:
    return None if estimate is None or estimate.fit is None else estimate.fit.slope


def _deciding_slope_bytes(deciding: GrowthEstimate | None, rss: GrowthEstimate | None) -> float | None:
    """The deciding series' slope in bytes; for a count (Python blocks) the RSS slope stands in."""
    if deciding is not None and deciding.unit == "bytes":
        return _fit_slope(deciding)
    return _fit_slope(rss)


def _series_entry(estimate: GrowthEstimate, judgement: MemoryJudgement | None) -> dict[str, Any]:
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
    }


def _trend_fields(prefix: str, trend) -> dict[str, Any]:
    return {
        f"{prefix}change_first_to_last_fifth": None if trend is None else trend.change_first_to_last_fifth,
        f"{prefix}window_medians_ms": None if trend is None else list(trend.window_medians_ms),
        f"{prefix}trend_tau": None if trend is None else trend.tau,
    }


def _drift_fields(latency: LatencyStats) -> dict[str, Any]:
    """The drift test's evidence: raw and reference-corrected trends, and the reference itself."""
    drift = latency.drift
    corrected = None if drift is None else drift.corrected
    corrected_fit = None if corrected is None else corrected.fit
    return {
        "latency_faster_over_run": latency.faster_over_run,
        **_trend_fields("latency_", None if drift is None else drift.raw),
        **_trend_fields("latency_corrected_", corrected),
        "latency_corrected_drift_ms_per_1k_iter": (None if corrected_fit is None
                                                   else corrected_fit.slope * ITERATIONS_PER_DRIFT_UNIT),
        "reference_p50_ms": None if drift is None else drift.reference_p50_ms,
        "reference_readings": 0 if drift is None else drift.reference_readings,
        "machine_change_first_to_last_fifth": None if drift is None else drift.machine_change_first_to_last_fifth,
    }


def _verdict_covers(iterations_completed: int, stopped_early: bool) -> str:
    covers = f"iterations 0..{max(iterations_completed - 1, 0)}"
    return covers + (", assuming the behaviour seen continues" if stopped_early else "")


def strategy_summary(analysis: StrategyAnalysis) -> dict[str, Any]:
    """The summary.json entry of one strategy (field order is part of the format)."""
    status, spec, error = analysis.status, analysis.spec, analysis.error
    rss = analysis.estimates.get("rss")
    rss_judgement = analysis.judgements.get("rss")
    latency = analysis.latency
    deciding = analysis.verdict.deciding_series
    deciding_estimate = analysis.estimates.get(deciding) if deciding else None
    error_text = None
    if error is not None:
        error_text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
    entry: dict[str, Any] = {
        "name": analysis.name,
        "index": analysis.index,
        "folder": analysis.folder_name,
        "verdict": analysis.verdict.verdict,
        "verdict_reason": analysis.verdict.reason,
        "memory_verdict": analysis.verdict.memory_verdict,
        "pattern": analysis.verdict.pattern,
        "deciding_series": deciding,
        "deciding_slope_bytes_per_iter": _deciding_slope_bytes(deciding_estimate, rss),
        "outcome": status.get("outcome", "unknown"),
        "description": status.get("description"),
        "exit_code": status.get("exit_code"),
        "signal_name": status.get("signal_name"),
        "memory_limit_hit": bool(status.get("memory_limit_hit", False)),
        "error_text": error_text,
        "error": None if error is None else {
            "type": error.get("type"), "message": error.get("message"), "traceback": error.get("traceback")},
        "iterations_completed": analysis.iterations_completed,
        "warmup_steps": analysis.warmup_steps,
        "warmup_end_iteration": None if rss is None else rss.warmup_end_iteration,
        "judged_iterations": None if rss is None else rss.judged_span_iterations,
        "samples_judged": 0 if rss is None else rss.samples_judged,
        **_slope_fields("rss", rss),
        "rss_growth_bytes": None if rss is None else _int_or_none(rss.growth_bytes),
        "rss_early_slope_bytes_per_iter": None if rss is None or rss.early_fit is None else rss.early_fit.slope,
        "rss_recent_slope_bytes_per_iter": None if rss is None or rss.recent_fit is None else rss.recent_fit.slope,
        "noise_floor_bytes_per_iter": None if rss is None else rss.noise_floor_bytes_per_iter,
        "more_iterations_needed": analysis.verdict.more_iterations_needed if analysis.verdict.memory_verdict
        == "inconclusive" else None,
        **_slope_fields("uss", analysis.estimates.get("uss")),
        **_slope_fields("gpu_process", analysis.estimates.get("gpu_process")),
        **_slope_fields("tf_current", analysis.estimates.get("tf_current")),
        **_slope_fields("heap", analysis.estimates.get("heap")),
        "py_blocks_slope_per_iter": _fit_slope(analysis.estimates.get("py_blocks")),
        "deciding_slope_per_iter": _fit_slope(deciding_estimate),
        "deciding_unit": None if deciding_estimate is None else deciding_estimate.unit,
        "rss_source": analysis.rss_source,
        "gpu_process_attribution": status.get("gpu_process_attribution"),
        "peak_rss_bytes": _int_or_none(analysis.peak_rss_bytes),
        "peak_uss_bytes": _int_or_none(analysis.peak_uss_bytes),
        "peak_gpu_bytes": _int_or_none(analysis.peak_gpu_bytes),
        "latency_ms": {"p50": latency.p50_ms, "p90": latency.p90_ms, "p99": latency.p99_ms,
                       "max": latency.max_ms, "mean": latency.mean_ms},
        "latency_count": latency.count,
        "images_per_step": analysis.images_per_step,
        "images_per_s": latency.images_per_s,
        "latency_drift_ms_per_1k_iter": latency.drift_ms_per_1k_iter,
        "latency_drift_ci95_ms_per_1k_iter": (None if latency.drift_ci95_ms_per_1k_iter is None
                                              else list(latency.drift_ci95_ms_per_1k_iter)),
        "latency_drift_significant": latency.drift_significant,
        **_drift_fields(latency),
        "projection": {p.resource: {
            "capacity_bytes": _int_or_none(p.capacity_bytes), "headroom_bytes": _int_or_none(p.headroom_bytes),
            "slope_bytes_per_iter": p.slope_bytes_per_iter,
            "iterations_to_exhaust": _int_or_none(p.iterations_to_exhaust),
            "time_to_exhaust_s": p.time_to_exhaust_s} for p in analysis.projections},
        "hints": [{"kind": h.kind, "evidence": h.evidence, "advice": h.advice} for h in analysis.hints],
        "memory": {series: _series_entry(estimate, analysis.judgements.get(series))
                   for series, estimate in analysis.estimates.items() if estimate is not None},
        "rss_verdict": None if rss_judgement is None else rss_judgement.verdict,
        "strategy": {"description": spec.get("description", ""), "code_pattern": spec.get("code_pattern", ""),
                     "factory": spec.get("factory"), "factory_kwargs": spec.get("factory_kwargs") or {}},
        "child": {"build_time_s": analysis.child_info.get("build_time_s"),
                  "tf_version": analysis.child_info.get("tf_version"),
                  "notes": analysis.child_info.get("notes") or []},
        "wall_time_s": status.get("wall_time_s"),
        # Where it ran (node, host, GPUs) with --backend ray; None for a local run.
        "placement": spec.get("placement"),
        "stopped_early": bool(status.get("stopped_early", False)),
        "stop_reason": status.get("stop_reason") or f"ran to {analysis.iterations_completed}",
        "verdict_covers": _verdict_covers(analysis.iterations_completed, bool(status.get("stopped_early", False))),
    }
    return entry


def run_summary(meta: dict[str, Any]) -> dict[str, Any]:
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    return {
        "command_line": list(meta.get("command_line") or config.get("command_line") or []),
        "started_utc": meta.get("started_utc"),
        "finished_utc": meta.get("finished_utc"),
        "interrupted": bool(meta.get("interrupted", False)),
        "notes": list(meta.get("notes") or []),
        "config": {name: config.get(name) for name in RUN_CONFIG_FIELDS},
        "environment": meta.get("environment") or {},
        "samplers": meta.get("samplers") or {},
        "host": meta.get("host") or {},
        "backend": (meta.get("backend") or {}).get("name", "local"),
        "hosts_note": (meta.get("backend") or {}).get("hosts_note"),
    }


def summarize(meta: dict[str, Any], analyses: list[StrategyAnalysis]) -> dict[str, Any]:
    strategies = [strategy_summary(a) for a in analyses]
    counts: dict[str, int] = {}
    for entry in strategies:
        counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
    return {
        "leakhunt_summary_format": SUMMARY_FORMAT_VERSION,
        "leak_found": any(entry["memory_verdict"] == "leak" for entry in strategies),
        "verdict_counts": dict(sorted(counts.items())),
        "run": run_summary(meta),
        "strategies": strategies,
    }


def analyze_run(run) -> tuple[dict[str, Any], list[StrategyAnalysis]]:
    """rundir.RunData -> (summary dict, analyses). Pure: reads nothing from disk itself."""
    analyses = [analyze_strategy(strategy, run.meta) for strategy in run.strategies]
    return summarize(run.meta, analyses), analyses
