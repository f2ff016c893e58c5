"""From a run folder's data (rundir.RunData) to per-strategy analyses and the summary dict.

The summary dict holds plain values only (numbers, strings, lists, dicts); rounding and JSON encoding are
the JSON renderer's job. docs/summary-schema.md documents every field.

This module makes the run-level part; the pieces live in strategy_data.py (what the data says before
judging), strategy_analysis.py (one strategy judged) and summary_entry.py (one strategy's entry).
"""

from __future__ import annotations

from leakhunt.analysis.strategy_analysis import (
    CHILD_SERIES,
    COUNTERS,
    SAMPLED_SERIES,
    StrategyAnalysis,
    analyze_strategy,
)
from leakhunt.analysis.strategy_data import (
    cpu_readings,
    judged_samples,
    samples_during_loop,
    warmup_steps_of,
)
from leakhunt.analysis.summary_entry import strategy_summary
from leakhunt.analysis.summary_types import RunConfigSummary, RunSummary, Summary
from leakhunt.rundir.config import RunConfigJson
from leakhunt.rundir.records import RunRecord

# Names other modules and tests import from here.
__all__ = ["CHILD_SERIES", "COUNTERS", "RUN_CONFIG_FIELDS", "SAMPLED_SERIES", "SUMMARY_FORMAT_VERSION",
           "StrategyAnalysis", "analyze_run", "analyze_strategy", "cpu_readings", "judged_samples", "run_summary",
           "samples_during_loop", "strategy_summary", "summarize", "warmup_steps_of"]

SUMMARY_FORMAT_VERSION = 1
RUN_CONFIG_FIELDS = tuple(RunConfigSummary.__annotations__)  # iterations, until_decided, ... attribute


def _config_summary(config: RunConfigJson) -> RunConfigSummary:
    return {
        "iterations": config.get("iterations"), "until_decided": config.get("until_decided"),
        "duration_s": config.get("duration_s"), "warmup_steps": config.get("warmup_steps"),
        "sample_interval_s": config.get("sample_interval_s"), "signal_every_steps": config.get("signal_every_steps"),
        "fail_on_leak": config.get("fail_on_leak"),
        "leak_threshold_bytes_per_iter": config.get("leak_threshold_bytes_per_iter"),
        "iteration_timeout_s": config.get("iteration_timeout_s"),
        "memory_limit_bytes": config.get("memory_limit_bytes"),
        "attribute": config.get("attribute"),
    }


def run_summary(run: RunRecord) -> RunSummary:
    return {
        "command_line": list(run.command_line),
        "started_utc": run.started_utc,
        "finished_utc": run.finished_utc,
        "interrupted": run.interrupted,
        "notes": list(run.notes),
        "config": _config_summary(run.config),
        "environment": run.environment,
        "samplers": run.samplers,
        "host": run.host,
        "backend": run.backend_name,
        "hosts_note": run.backend.get("hosts_note"),
    }


def summarize(run: RunRecord, analyses: list[StrategyAnalysis]) -> Summary:
    strategies = [strategy_summary(a) for a in analyses]
    counts: dict[str, int] = {}
    for entry in strategies:
        counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
    return {
        "leakhunt_summary_format": SUMMARY_FORMAT_VERSION,
        "leak_found": any(entry["memory_verdict"] == "leak" for entry in strategies),
        "verdict_counts": dict(sorted(counts.items())),
        "run": run_summary(run),
        "strategies": strategies,
    }


def analyze_run(run) -> tuple[Summary, list[StrategyAnalysis]]:
    """rundir.RunData -> (summary dict, analyses). Pure: reads nothing from disk itself."""
    record = RunRecord.from_json(run.meta)
    analyses = [analyze_strategy(strategy, record) for strategy in run.strategies]
    return summarize(record, analyses), analyses
