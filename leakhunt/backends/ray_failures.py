"""A Ray task that returned no result is a finding too: which killer it was (Ray's memory monitor, the
kernel's OOM killer, a lost node, a Ctrl-C), as the strategy's StrategyStatus. Ray's exception classes are
matched by name, so this module never imports Ray."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leakhunt import rundir
from leakhunt.harness.exit_status import Outcome, StrategyStatus

_LOST_NODE_ERRORS = ("NodeDiedError", "LocalRayletDiedError", "OwnerDiedError", "ObjectLostError",
                     "ObjectReconstructionFailedError", "RaySystemError")


@dataclass(frozen=True)
class RayFailure:
    outcome: Outcome
    description: str
    # True when memory ran out (Ray's memory monitor or the kernel's OOM killer): the report reads it as the
    # leak's last symptom, as for a local OOM kill.
    out_of_memory: bool = False


def _error_names(error: BaseException) -> list[str]:
    return [klass.__name__ for klass in type(error).__mro__]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _task_error(error: BaseException) -> RayFailure:
    """The task function itself raised: a Ctrl-C reaching the worker, or a leakhunt bug there."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, KeyboardInterrupt):
        return RayFailure("interrupted", "interrupted by Ctrl-C; the Ray task was cancelled")
    shown = cause if isinstance(cause, BaseException) else error
    return RayFailure("crashed", f"leakhunt failed on the Ray worker: {type(shown).__name__}: {_first_line(shown)}")


def describe_ray_failure(error: BaseException, oom_kills_on_driver_host: int | None) -> RayFailure:
    """What happened to a task whose `ray.get` raised `error`.

    `oom_kills_on_driver_host` is how much the kernel's OOM-kill counter of the driver's cgroup rose during the
    run (None: unknown); a local Ray instance's workers share that cgroup, so a rise there names the killer.
    """
    names = _error_names(error)
    if "TaskCancelledError" in names:
        return RayFailure("interrupted", "interrupted by Ctrl-C; the Ray task was cancelled")
    if "OutOfMemoryError" in names:
        # Ray picks its victim by policy (newest non-retriable task first), not by who grew: say so.
        return RayFailure("crashed", "killed by Ray's memory monitor: the node's memory use passed its threshold "
                          "(RAY_memory_usage_threshold, 0.95 by default) and Ray killed the worker and its child: "
                          "out of memory on the node, though not necessarily caused by this strategy (compare the "
                          f"strategies that shared its node) ({_first_line(error)})", out_of_memory=True)
    if "WorkerCrashedError" in names:
        if oom_kills_on_driver_host:
            return RayFailure("crashed", "the Ray worker running it was killed by the kernel's OOM killer (the "
                              f"cgroup's oom_kill count rose by {oom_kills_on_driver_host} while it ran): out of "
                              "memory", out_of_memory=True)
        return RayFailure("crashed", "the Ray worker running it died unexpectedly (killed by a signal or crashed; "
                          "not Ray's memory monitor, and no kernel OOM kill seen on the driver's host), and its "
                          "child with it")
    if any(name in names for name in _LOST_NODE_ERRORS):
        return RayFailure("crashed", f"the Ray node running it was lost (node died or unreachable): "
                          f"{_first_line(error)}")
    if "RayTaskError" in names:
        return _task_error(error)
    return RayFailure("crashed", f"Ray could not run it: {type(error).__name__}: {_first_line(error)}")


def _steps_on_disk(folder: Path, warmup_steps: int) -> tuple[int, int]:
    """(steps, measured iterations) the child logged before it died, from iterations.csv and its latency blocks."""
    steps = rundir.steps_on_disk(folder)
    return steps, max(steps - warmup_steps, 0)


def failure_status(failure: RayFailure, folder: Path, warmup_steps: int, wall_time_s: float) -> StrategyStatus:
    """status.json for a strategy whose task returned nothing, from the failure and whatever data is on disk."""
    steps, iterations = _steps_on_disk(folder, warmup_steps)
    return StrategyStatus(
        outcome=failure.outcome, exit_code=None, signal=None, signal_name=None, description=failure.description,
        steps_completed=steps, iterations_completed=iterations, warmup_completed=min(steps, warmup_steps),
        wall_time_s=round(wall_time_s, 3), memory_limit_hit=failure.out_of_memory, hung=False, bad_workload=False,
        cgroup_oom_kills=None, memory_limit_method=None,
        stop_reason=f"ran to {iterations}",
    )
