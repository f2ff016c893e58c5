"""Parent side of the attribution pass: after a strategy's verdict pass, judge it from its folder; if it leaks,
plan a short tracked pass, run it in a fresh child, watch it (time limit, memory, Ctrl-C) and write
attribution-status.json. Whatever goes wrong here ends as `failed: <why>` in that file: the verdict pass's
files are already written and are never touched, so no failure of this pass can change a verdict.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from leakhunt import rundir
from leakhunt.attribution.task import AttributionTask
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.rundir.config import RunConfig, StrategySpec
from leakhunt.rundir.records import RunRecord

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import AttributionStatusJson, PlanJson

# The tracked steps' time budget. Long enough for a dozen checkpoints over tens of steps of a slow model,
# short against a verdict pass that ran minutes; the child stops at its next checkpoint past TIME_LIMIT_FACTOR x.
TRACKED_BUDGET_S = 30.0
TIME_LIMIT_FACTOR = 2.0
# Measured (docs/benchmarks.md): memray with Python-allocator tracing plus the per-line heap witness make a
# TensorFlow step ~2-5x slower, and reading memray's capture afterwards costs another ~1-5x the step time per
# tracked step; the plan assumes 10x in all so the pass stays near its budget.
TRACKING_SLOWDOWN = 10.0
MIN_ITERATIONS = 10  # one step per checkpoint interval at least
MAX_ITERATIONS = 500  # ~45 steps per checkpoint interval: plenty for a slope
CHECKPOINTS = 11  # readings of every site: the first before the first tracked step
# Untracked warm-up: the verdict pass's warm-up and memory warm-up (caches fill there), within this budget.
WARMUP_BUDGET_S = 30.0
MIN_WARMUP_STEPS = 10
POLL_S = 0.2
# Besides the planned time, the child imports TensorFlow, builds the model and reads the capture.
STARTUP_ALLOWANCE_S = 120.0
ENV_PASS = "LEAKHUNT_PASS"  # "attribution" in the attribution child: a workload may tell the passes apart


@dataclass(frozen=True)
class Plan:
    warmup_steps: int
    iterations: int
    checkpoints: int
    step_ms: float | None
    budget_s: float
    why: str

    def time_limit_s(self) -> float:
        return TIME_LIMIT_FACTOR * self.budget_s

    def to_json(self) -> PlanJson:
        return {"warmup_steps": self.warmup_steps, "iterations": self.iterations, "checkpoints": self.checkpoints,
                "step_ms": self.step_ms, "budget_s": self.budget_s, "why": self.why}


def plan_pass(step_ms: float | None, verdict_warmup_steps: int, memory_warmup_end: int | None) -> Plan:
    """The attribution pass's length from the verdict pass's step time and a time budget."""
    step_s = (step_ms or 0.0) / 1e3
    tracked_step_s = max(step_s * TRACKING_SLOWDOWN, 1e-6)
    iterations = int(min(MAX_ITERATIONS, max(MIN_ITERATIONS, TRACKED_BUDGET_S // tracked_step_s)))
    wanted_warmup = max(MIN_WARMUP_STEPS, verdict_warmup_steps + (memory_warmup_end or 0))
    affordable_warmup = int(WARMUP_BUDGET_S // step_s) if step_s > 0 else wanted_warmup
    warmup = max(min(wanted_warmup, affordable_warmup), min(MIN_WARMUP_STEPS, wanted_warmup))
    pace = f"{step_ms:.3g} ms per step in the verdict pass" if step_ms else "no step time measured"
    why = (f"{iterations} tracked steps after {warmup} untracked warm-up steps: {pace}, assumed "
           f"{TRACKING_SLOWDOWN:g}x slower with tracking, {TRACKED_BUDGET_S:g} s budget "
           f"({MIN_ITERATIONS}-{MAX_ITERATIONS} steps), {CHECKPOINTS} checkpoints")
    return Plan(warmup, iterations, CHECKPOINTS, step_ms, TRACKED_BUDGET_S, why)


def _judge(strategy_dir: Path, index: int, run: RunRecord) -> Any:
    from leakhunt.analysis.strategy_analysis import analyze_strategy

    return analyze_strategy(rundir.read_strategy(index, strategy_dir), run)


def _memory_warmup_end(analysis: Any) -> int | None:
    deciding = analysis.verdict.deciding_series
    estimate = analysis.estimates.get(deciding) if deciding else analysis.estimates.get("rss")
    return None if estimate is None else estimate.warmup_end_iteration


def _write_status(strategy_dir: Path, outcome: str, reason: str | None, wall_s: float, peak_rss: int | None,
                  exit_code: int | None, plan: Plan | None) -> AttributionStatusJson:
    status: AttributionStatusJson = {"outcome": outcome, "reason": reason, "wall_s": round(wall_s, 3),
                                     "peak_rss_bytes": peak_rss, "exit_code": exit_code,
                                     "plan": None if plan is None else plan.to_json()}
    rundir.write_json_atomic(strategy_dir / rundir.ATTRIBUTION_STATUS_FILE, status)
    return status


def _child_outcome(returncode: int | None, timed_out: bool, limit_s: float) -> tuple[str, str | None]:
    if timed_out:
        return "failed", f"timed out after {limit_s:.0f} s (the child was killed)"
    if returncode == 0:
        return "done", None
    if returncode is not None and returncode < 0:
        return "failed", f"the attribution child was killed by signal {-returncode} (out of memory?)"
    return "failed", f"the attribution child exited with code {returncode}"


def _watch(child: Any, limit_s: float) -> tuple[int | None, bool]:
    """Wait for the child within limit_s, sampling its RSS; (peak RSS, timed out)."""
    deadline = time.monotonic() + limit_s
    peak: int | None = None
    watched = psutil.Process(child.pid)
    while child.process.poll() is None:
        if time.monotonic() > deadline:
            child.kill()
            return peak, True
        try:
            rss = watched.memory_info().rss
            peak = rss if peak is None else max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(POLL_S)
    return peak, False


def run_child(task: AttributionTask, strategy_dir: Path, config: RunConfig, limit_s: float) -> tuple[
        str, str | None, int | None, int | None]:
    """Launch `python -m leakhunt.attribution.child_pass`; (outcome, reason, peak RSS, exit code)."""
    from leakhunt.harness.launch import LaunchedChild

    task_path = strategy_dir / rundir.ATTRIBUTION_TASK_FILE
    rundir.write_json_atomic(task_path, task.to_json())
    launched = LaunchedChild(task_path, strategy_dir / rundir.ATTRIBUTION_LOG_FILE, config.memory_limit_bytes,
                             module="leakhunt.attribution.child_pass", extra_env={ENV_PASS: "attribution"})
    with launched as child:
        peak, timed_out = _watch(child, limit_s)
    returncode = None if launched.process is None else launched.process.returncode
    outcome, reason = _child_outcome(returncode, timed_out, limit_s)
    return outcome, reason, peak, returncode


def _time_limit_s(plan: Plan, analysis: Any) -> float:
    build_s = analysis.child_info.build_time_s or 0.0
    warmup_s = plan.warmup_steps * (plan.step_ms or 0.0) / 1e3
    return STARTUP_ALLOWANCE_S + 2 * build_s + 2 * warmup_s + 2 * plan.time_limit_s()


def attribute_strategy(config: RunConfig, spec: StrategySpec, index: int, strategy_dir: Path, run: RunRecord,
                       display: ProgressDisplay) -> AttributionStatusJson | None:
    """Run the attribution pass if the verdict pass judged a leak; None when it did not (nothing written)."""
    started_s = time.monotonic()
    plan: Plan | None = None
    try:
        analysis = _judge(strategy_dir, index, run)
        if analysis.verdict.memory_verdict != "leak":
            return None
        plan = plan_pass(analysis.latency.p50_ms, analysis.warmup_steps, _memory_warmup_end(analysis))
        task = AttributionTask(spec=spec, strategy_dir=strategy_dir.resolve(), warmup_steps=plan.warmup_steps,
                               iterations=plan.iterations, checkpoints=plan.checkpoints,
                               tracked_time_limit_s=plan.time_limit_s())
        display.message(f"leakhunt: {spec.name}: leak; finding where (attribution pass: {plan.why})")
        limit_s = _time_limit_s(plan, analysis)
        outcome, reason, peak, code = run_child(task, strategy_dir, config, limit_s)
    except KeyboardInterrupt:
        _write_status(strategy_dir, "failed", "interrupted (Ctrl-C)", time.monotonic() - started_s, None, None, plan)
        raise
    except Exception as error:  # noqa: BLE001 - a bug here costs the attribution, never the verdict
        reason = f"leakhunt internal error: {type(error).__name__}: {error}"
        with open(strategy_dir / rundir.ATTRIBUTION_LOG_FILE, "a", encoding="utf-8") as log:
            log.write(traceback.format_exc())
        return _write_status(strategy_dir, "failed", reason, time.monotonic() - started_s, None, None, plan)
    wall_s = time.monotonic() - started_s
    display.message(f"leakhunt: {spec.name}: attribution pass {outcome}{': ' + reason if reason else ''} "
                    f"({wall_s:.1f} s)")
    return _write_status(strategy_dir, outcome, reason, wall_s, peak, code, plan)
