"""Running one case: a soak of a few strategies through leakhunt's public API, or the `leakhunt` command.

`soak()` builds a `leakhunt.SoakOptions` and runs it with `leakhunt.run_soak` (what `leakhunt.soak()` and
`leakhunt soak` run). A strategy whose workload factory takes keyword arguments (a planted leak's size, a
calibrated spin count) cannot be said through that API: leakhunt.soak() takes "FILE.py:FUNC" strings only.
For those, and only those, the options go through the same `build_run_config` and the factory's keyword
arguments are set on its StrategySpec before `runner.run`, the call run_soak makes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness.results import entries_by_name

# The CLI's default warm-up: a benchmark judges what a user running `leakhunt soak` would see.
WARMUP_STEPS = 10


@dataclass(frozen=True)
class Strategy:
    """One strategy of a soak: a workload factory ("FILE.py:FUNC", called with `kwargs`) named `name`, or the
    built-in strategy `builtin` (on the soak's preset; its summary entry is renamed to `name`)."""

    name: str
    target: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    builtin: str | None = None


def workload(name: str, factory: str, /, **kwargs: Any) -> Strategy:
    """The workload factory "FILE.py:FUNC" named `name`, called with `kwargs` in the child."""
    return Strategy(name, factory, dict(kwargs))


def builtin(name: str, strategy: str | None = None) -> Strategy:
    return Strategy(name, builtin=strategy or name)


@dataclass(frozen=True)
class SoakRun:
    """What one soak gave: the summary, its entries by strategy name, the wall time around the call."""

    run_dir: Path
    summary: dict[str, Any]
    entries: dict[str, dict[str, Any]]
    interrupted: bool
    exit_code: int
    wall_s: float


def soak_options(strategies: Sequence[Strategy], out: Path, settings: dict[str, Any]) -> Any:
    import leakhunt

    workloads = [strategy for strategy in strategies if strategy.builtin is None]
    return leakhunt.SoakOptions(
        workloads=tuple(str(strategy.target) for strategy in workloads),
        labels=tuple(strategy.name for strategy in workloads),
        strategies=tuple(str(strategy.builtin) for strategy in strategies if strategy.builtin is not None),
        out=out, force=True, show_progress=False, **settings)


def config_with_kwargs(options: Any, strategies: Sequence[Strategy]) -> Any:
    """run_soak's RunConfig for `options`, with each workload factory's keyword arguments set on its StrategySpec
    (the public API has no way to say them)."""
    from leakhunt.runner.soak_setup import build_run_config

    kwargs = {strategy.name: dict(strategy.kwargs) for strategy in strategies if strategy.kwargs}
    config = build_run_config(options)
    specs = tuple(dataclasses.replace(spec, factory_kwargs=kwargs[spec.name]) if spec.name in kwargs else spec
                  for spec in config.strategies)
    return dataclasses.replace(config, strategies=specs)


def _run_with_kwargs(options: Any, strategies: Sequence[Strategy]) -> tuple[Path, dict[str, Any], bool, int]:
    from leakhunt import runner

    result = runner.run(config_with_kwargs(options, strategies))
    return result.run_dir, dict(result.summary), result.interrupted, result.exit_code


def soak(strategies: Sequence[Strategy], out: Path, *, iterations: int, warmup: int = WARMUP_STEPS,
         until_decided: bool = False, duration_s: float | None = None, preset: str | None = None,
         attribute: str = "off", load: contextlib.AbstractContextManager[Any] | None = None,
         **options: Any) -> SoakRun:
    """One soak of `strategies` into `out`, under `load` (a context such as hog_load(...): on for the whole soak).

    The defaults are a benchmark's, not the CLI's: every iteration (until_decided=False, the CLI's --exact)
    and no attribution pass unless asked. `options`: any other leakhunt.SoakOptions field (device, gpu_memories).
    Raises KeyboardInterrupt when the soak was interrupted, so a benchmark's own Ctrl-C handling sees it.
    """
    import leakhunt

    settings = dict(iterations=iterations, warmup=warmup, until_decided=until_decided, duration=duration_s,
                    preset=preset, attribute=attribute, **options)
    run_options = soak_options(strategies, out, settings)
    started = time.monotonic()
    with load if load is not None else contextlib.nullcontext():
        if any(strategy.kwargs for strategy in strategies):
            run_dir, summary, interrupted, exit_code = _run_with_kwargs(run_options, strategies)
        else:
            result = leakhunt.run_soak(run_options)
            # summary.json as plain JSON: a benchmark reads and records any field, typed or not.
            run_dir, summary, interrupted = result.run_dir, dict(result.summary), result.interrupted
            exit_code = result.exit_code
    wall_s = time.monotonic() - started
    if interrupted:
        raise KeyboardInterrupt
    renamed = {strategy.builtin: strategy.name for strategy in strategies if strategy.builtin is not None}
    entries = {renamed.get(name, name): entry for name, entry in entries_by_name(summary).items()}
    return SoakRun(run_dir, summary, entries, interrupted, exit_code, wall_s)


def leakhunt_command(*arguments: str) -> list[str]:
    """`leakhunt ARGUMENTS...` as this interpreter runs it (python -m leakhunt: the venv's, not a PATH lookup)."""
    return [sys.executable, "-m", "leakhunt", *arguments]


def run_cli(*arguments: str, **popen: Any) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `leakhunt ARGUMENTS...` to its end; (the finished process, its wall time in seconds). For benchmarks
    that measure the command itself (its own process, Python's and TensorFlow's start-up, a fresh Ray instance);
    `popen`: subprocess.run's keyword arguments (cwd, env, stdout, capture_output, check)."""
    popen.setdefault("text", True)
    started = time.monotonic()
    completed = subprocess.run(leakhunt_command(*arguments), **popen)
    return completed, time.monotonic() - started
