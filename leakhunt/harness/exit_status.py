"""How a child ended, as a typed record (status.json): a pure classifier of what the parent observed."""

from __future__ import annotations

import dataclasses
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from leakhunt import rundir
from leakhunt.rundir import CHILD_EXIT_BAD_WORKLOAD, CHILD_EXIT_COMPLETED, CHILD_EXIT_WORKLOAD_RAISED, FAULT_FILE
from leakhunt.rundir.records import Outcome, StatusJson
from leakhunt.units import human_bytes

# The last part of faulthandler's output kept in status.json (the report shows it for crashed children).
FAULT_TRACEBACK_MAX_CHARS = 4000


@dataclass(frozen=True)
class StrategyStatus:
    """status.json: how the child ended. Field order is the file's (and part of the run-folder format)."""

    outcome: Outcome
    exit_code: int | None
    signal: int | None
    signal_name: str | None
    description: str
    steps_completed: int
    iterations_completed: int
    warmup_completed: int
    wall_time_s: float
    memory_limit_hit: bool
    hung: bool
    bad_workload: bool
    cgroup_oom_kills: int | None
    memory_limit_method: str | None
    gpu_process_attribution: str | None = None
    stopped_early: bool = False
    stop_reason: str = ""
    fault_traceback: str | None = None
    # --until-decided: the measured iterations the settling look judged; the verdict covers exactly these.
    settled_at_iteration: int | None = None
    stop_requested_monotonic_s: float | None = None  # when the parent set the stop flag

    def to_json(self) -> StatusJson:
        data = cast(StatusJson, dataclasses.asdict(self))  # the dataclass's fields are StatusJson's keys
        if self.settled_at_iteration is None:
            del data["settled_at_iteration"]
        if self.stop_requested_monotonic_s is None:
            del data["stop_requested_monotonic_s"]
        if self.gpu_process_attribution is None:
            del data["gpu_process_attribution"]  # no NVML: the field is absent, as before it existed
        if self.fault_traceback is None:
            del data["fault_traceback"]
        return data


@dataclass(frozen=True)
class Observed:
    """What the parent saw of one child, the input of the classifier."""

    returncode: int | None
    steps_done: int
    wall_time_s: float
    warmup_steps: int
    interrupted: bool = False
    hung: bool = False
    memory_limit_hit: bool = False
    killed_reason: str | None = None
    parent_error: str | None = None
    oom_kills: int | None = None  # rise of the OOM-kill counter while the child ran
    in_own_cgroup: bool = False  # the child ran in a memory cgroup of its own (--memory-limit)
    memory_limit_bytes: int | None = None
    memory_limit_method: str | None = None
    gpu_process_attribution: str | None = None
    stop_reason: str | None = None  # set when --until-decided asked the child to stop
    settled_at_iteration: int | None = None  # ...after a look at this many measured iterations
    stop_requested_monotonic_s: float | None = None


def describe_exit(returncode: int) -> tuple[Outcome, int | None, str | None, str]:
    """(outcome, signal number, signal name, description) for a child's return code."""
    if returncode == CHILD_EXIT_COMPLETED:
        return "completed", None, None, "completed"
    if returncode == CHILD_EXIT_WORKLOAD_RAISED:
        return "failed", None, None, "the workload raised an exception"
    if returncode == CHILD_EXIT_BAD_WORKLOAD:
        return "failed", None, None, "the workload could not be built (bad workload)"
    if returncode < 0:
        signum = -returncode
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        if signum == signal.SIGKILL:
            return "crashed", signum, name, "killed by SIGKILL (likely out of memory)"
        if signum == signal.SIGSEGV:
            return "crashed", signum, name, "crashed: segmentation fault (SIGSEGV) in native code"
        return "crashed", signum, name, f"killed by {name}"
    if returncode == 130:
        return "interrupted", None, None, "interrupted"
    return "crashed", None, None, f"exited with code {returncode}"


def _parent_verdict(observed: Observed, outcome: Outcome, description: str) -> tuple[Outcome, str]:
    """What the parent itself did to the child (Ctrl-C, hang, memory limit, its own error) comes first."""
    if observed.interrupted:
        return "interrupted", "interrupted by Ctrl-C; the child was stopped"
    if observed.hung:
        return "hung", observed.killed_reason or "hung"
    if observed.memory_limit_hit:
        return "crashed", observed.killed_reason or "out of memory"
    if observed.parent_error:
        return "crashed", observed.parent_error
    return outcome, description


def _oom_description(observed: Observed, iterations: int) -> tuple[bool, str] | None:
    """A SIGKILL the kernel's OOM killer dealt, told apart by the cgroup's oom_kill counter."""
    if not observed.oom_kills:
        return None
    if observed.in_own_cgroup:
        return True, (f"out of memory: the kernel OOM-killed it at the --memory-limit "
                      f"{human_bytes(observed.memory_limit_bytes or 0)} cgroup cap at iteration {iterations}")
    return False, (f"killed by the kernel's OOM killer (the cgroup's oom_kill count rose by {observed.oom_kills} "
                   "while it ran): out of memory")


def _workload_error_description(strategy_dir: Path, returncode: int | None, description: str) -> str:
    try:
        error = rundir.read_json(strategy_dir / rundir.ERROR_FILE)
    except (OSError, ValueError):
        return description
    if returncode == CHILD_EXIT_BAD_WORKLOAD:
        return str(error.get("message"))
    return f"raised {error.get('type')}: {error.get('message')}"


def classify(observed: Observed, strategy_dir: Path) -> StrategyStatus:
    """The child's status from what the parent saw and the files the child left (error.json, fault.txt)."""
    steps_completed = max(observed.steps_done, 0)
    iterations = max(steps_completed - observed.warmup_steps, 0)
    returncode = observed.returncode
    outcome, signum, signame, description = describe_exit(returncode if returncode is not None else -9)
    outcome, description = _parent_verdict(observed, outcome, description)
    memory_limit_hit = observed.memory_limit_hit
    oom = _oom_description(observed, iterations) if signame == "SIGKILL" and outcome == "crashed" \
        and not memory_limit_hit else None
    if oom is not None:
        hit, description = oom
        memory_limit_hit = memory_limit_hit or hit
    if outcome == "failed" and (strategy_dir / rundir.ERROR_FILE).exists():
        description = _workload_error_description(strategy_dir, returncode, description)
    fault_path = strategy_dir / FAULT_FILE
    fault_text = fault_path.read_text(encoding="utf-8", errors="replace").strip() if fault_path.exists() else ""
    stopped_early = bool(observed.stop_reason and outcome == "completed")
    return StrategyStatus(
        outcome=outcome, exit_code=returncode, signal=signum, signal_name=signame, description=description,
        steps_completed=steps_completed, iterations_completed=iterations,
        warmup_completed=min(steps_completed, observed.warmup_steps), wall_time_s=round(observed.wall_time_s, 3),
        memory_limit_hit=memory_limit_hit, hung=observed.hung,
        bad_workload=returncode == CHILD_EXIT_BAD_WORKLOAD, cgroup_oom_kills=observed.oom_kills,
        memory_limit_method=observed.memory_limit_method,
        gpu_process_attribution=observed.gpu_process_attribution, stopped_early=stopped_early,
        stop_reason=(observed.stop_reason or "") if stopped_early else f"ran to {iterations}",
        fault_traceback=fault_text[-FAULT_TRACEBACK_MAX_CHARS:] or None,
        settled_at_iteration=observed.settled_at_iteration if stopped_early else None,
        stop_requested_monotonic_s=observed.stop_requested_monotonic_s if stopped_early else None,
    )
