"""What a strategy's data says before anything is judged: which samples show the loop's state, the warm-up,
the iterations done, the child's CPU readings, and a column's peak or last value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.analysis.drift_machine import CpuReadings
from leakhunt.rundir.latency_blocks import LatencyBlocks
from leakhunt.rundir.records import ChildInfo, ErrorRecord, RunRecord, StatusRecord


def column_max(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.empty:
        return None
    values = pd.to_numeric(frame[column], errors="coerce")
    value = values.max(skipna=True)
    return None if pd.isna(value) else float(value)


def column_last(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns or frame.empty:
        return None
    values = pd.to_numeric(frame[column], errors="coerce").dropna()
    return None if values.empty else float(values.iloc[-1])


def warmup_steps_of(run: RunRecord, iterations: pd.DataFrame | None = None) -> int:
    """The explicit warm-up: run.json's config.warmup_steps, else the count of phase=="warmup" rows."""
    if run.warmup_steps is not None:
        return run.warmup_steps
    if iterations is not None and "phase" in iterations.columns:
        return int((iterations["phase"].astype(str) == "warmup").sum())
    return 0


def child_info_of(strategy) -> ChildInfo:
    """A rundir.StrategyData's child.json as a record (all defaults when the child never wrote one)."""
    return ChildInfo.from_json(strategy.child_info if isinstance(strategy.child_info, dict) else {})


def status_of(strategy) -> StatusRecord:
    """A rundir.StrategyData's status.json as a record ("unknown" outcome when it is missing or broken)."""
    return StatusRecord.from_json(strategy.status if isinstance(strategy.status, dict) else {})


def error_of(strategy) -> ErrorRecord | None:
    """A rundir.StrategyData's error.json as a record; None when the workload raised nothing."""
    return ErrorRecord.from_json(strategy.error) if isinstance(strategy.error, dict) else None


def iterations_completed_of(status: StatusRecord, iterations: pd.DataFrame, blocks=None) -> int:
    """status.json's count; else the measured rows plus the measured steps of the latency blocks."""
    if status.iterations_completed is not None:
        return status.iterations_completed
    in_blocks = 0 if blocks is None or not len(blocks) else int(blocks.steps[blocks.measured].sum())
    if "phase" in iterations.columns:
        return int((iterations["phase"].astype(str) == "measure").sum()) + in_blocks
    return int(len(iterations)) + in_blocks


def samples_during_loop(samples: pd.DataFrame, iterations: pd.DataFrame,
                        close_started_s: float | None = None, blocks=None) -> pd.DataFrame:
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
    if blocks is not None and len(blocks):  # the last steps may be in a latency block
        loop_end_s = max(float(np.nanmax(blocks.end_s)), -np.inf if pd.isna(loop_end_s) else float(loop_end_s))
    if pd.isna(loop_end_s):
        return samples
    times = pd.to_numeric(samples["t_monotonic_s"], errors="coerce")
    return samples[~(times > loop_end_s)]


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
    if status_of(strategy).outcome != "completed":
        # Only a completed child wrote all its steps; after a crash the last second may be missing.
        return samples
    return samples_during_loop(samples, strategy.iterations, child_info_of(strategy).close_started_monotonic_s,
                               getattr(strategy, "latency_blocks", None))


def within_settled_span(frame: pd.DataFrame, step_column: str, status: StatusRecord,
                        warmup_steps: int) -> pd.DataFrame:
    """The rows of a step-indexed table the settling look judged (--until-decided): the child stops within
    milliseconds of the parent's decision, but the look read readings up to the iteration it counted, and the
    reported verdict covers exactly those (docs/verdicts.md, "Stopping when settled")."""
    if status.settled_at_iteration is None or frame.empty or step_column not in frame.columns:
        return frame
    steps = pd.to_numeric(frame[step_column], errors="coerce")
    return frame[~(steps >= warmup_steps + status.settled_at_iteration)]


def blocks_within_settled_span(blocks: LatencyBlocks | None, status: StatusRecord,
                               warmup_steps: int) -> LatencyBlocks | None:
    """The latency blocks that start inside the span the settling look judged (within_settled_span)."""
    if blocks is None or status.settled_at_iteration is None or not len(blocks):
        return blocks
    return blocks.select(blocks.first_step < warmup_steps + status.settled_at_iteration)


def forced_collection_seconds(collections: pd.DataFrame, warmup_steps: int) -> float:
    """Seconds the child spent on forced full collections between measured steps (the final one runs after the
    last step, outside the loop's time; the baseline runs after the first measured step, inside it)."""
    if collections.empty or "duration_s" not in collections.columns or "reason" not in collections.columns:
        return 0.0
    steps = pd.to_numeric(collections["step"], errors="coerce")
    durations = pd.to_numeric(collections["duration_s"], errors="coerce")
    inside = (steps >= warmup_steps) & (collections["reason"].astype(str) != "final")
    return float(durations[inside].sum(skipna=True))
