"""The Python API: `leakhunt.soak(...)` runs what `leakhunt soak` runs and returns a typed result.

The CLI runs the same code path (run_soak, with the SoakOptions it built). Workloads are "FILE.py:FUNC" /
"module:FUNC" strings or module-level functions, which become an importable reference for the child. Bad input raises
`leakhunt.LeakhuntError` (BadInputError) with the same one-line message the CLI prints.

    import leakhunt
    result = leakhunt.soak("examples/leaky.py:make", iterations=2000)
    result.leak_found, result.strategies[0].verdict, result.run_dir / "report.html"
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Union

from leakhunt.errors import BadInputError
from leakhunt.soak_options import DEFAULT_SOAK_OPTIONS, SoakOptions

if TYPE_CHECKING:  # rundir (pandas) stays unimported until a soak runs
    from leakhunt.analysis.summary_types import LatencyPercentiles, StrategySummary, Summary

Workload = Union[str, Callable[..., Any]]
# An option that takes several values (the CLI repeats it): a list, or a single string.
Values = Union[str, Iterable[str]]
_D = DEFAULT_SOAK_OPTIONS  # every default is SoakOptions' (leakhunt/soak_options.py), stated there once


@dataclass(frozen=True)
class StrategyResult:
    """One strategy's verdict and figures (the summary.json entry is in `entry`)."""

    name: str
    verdict: str
    verdict_reason: str
    iterations_completed: int
    rss_slope_bytes_per_iter: float | None
    rss_slope_ci95_bytes_per_iter: tuple[float, float] | None
    deciding_series: str | None
    deciding_slope_bytes_per_iter: float | None
    latency_ms: LatencyPercentiles
    latency_drift_significant: bool
    more_iterations_needed: int | None
    stopped_early: bool
    stop_reason: str
    error_text: str | None
    entry: StrategySummary = field(repr=False, compare=False)

    @classmethod
    def from_summary_entry(cls, entry: StrategySummary) -> "StrategyResult":
        ci = entry.get("rss_slope_ci95_bytes_per_iter")
        latency = entry.get("latency_ms")
        return cls(
            name=str(entry.get("name")), verdict=str(entry.get("verdict")),
            verdict_reason=str(entry.get("verdict_reason") or ""),
            iterations_completed=int(entry.get("iterations_completed") or 0),
            rss_slope_bytes_per_iter=entry.get("rss_slope_bytes_per_iter"),
            rss_slope_ci95_bytes_per_iter=None if not ci else (float(ci[0]), float(ci[1])),
            deciding_series=entry.get("deciding_series"),
            deciding_slope_bytes_per_iter=entry.get("deciding_slope_bytes_per_iter"),
            latency_ms=latency.copy() if latency else {"p50": None, "p90": None, "p99": None, "max": None,
                                                       "mean": None},
            latency_drift_significant=bool(entry.get("latency_drift_significant")),
            more_iterations_needed=entry.get("more_iterations_needed"),
            stopped_early=bool(entry.get("stopped_early")), stop_reason=str(entry.get("stop_reason") or ""),
            error_text=entry.get("error_text"), entry=entry,
        )


@dataclass(frozen=True)
class SoakResult:
    run_dir: Path
    exit_code: int
    leak_found: bool
    interrupted: bool
    strategies: tuple[StrategyResult, ...]
    summary: Summary = field(repr=False, compare=False)
    bad_workload_errors: tuple[str, ...] = ()

    @property
    def report_path(self) -> Path:
        return self.run_dir / "report.html"

    def strategy(self, name: str) -> StrategyResult:
        for strategy in self.strategies:
            if strategy.name == name:
                return strategy
        raise KeyError(name)


def workload_reference(workload: Workload) -> str:
    """"FILE.py:FUNC" or "module:FUNC" for the child to import; a function becomes its file path and name."""
    if isinstance(workload, str):
        return workload
    if not callable(workload):
        raise BadInputError(f"a workload must be a 'FILE.py:FUNC' string or a function, got {type(workload).__name__}")
    name = getattr(workload, "__name__", "")
    qualname = getattr(workload, "__qualname__", name)
    if not name or "<" in qualname or "." in qualname:
        raise BadInputError(f"workload {qualname or workload!r} must be a module-level function (the child "
                            "imports it by name); lambdas, nested functions and methods cannot be imported")
    module = sys.modules.get(getattr(workload, "__module__", "") or "")
    source = inspect.getsourcefile(workload) if module is not None else None
    if source and Path(source).is_file():
        # A file path works for test modules and __main__ scripts that are not importable by module name.
        return f"{Path(source).resolve()}:{name}"
    return f"{workload.__module__}:{name}"


def _as_tuple(value: Values | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int, float)):
        return (str(value),)
    return tuple(str(item) for item in value)


def soak(*workloads: Workload, strategies: Values = _D.strategies, iterations: int | str = _D.iterations,
         out: str | Path | None = _D.out, labels: Values = _D.labels, preset: str | None = _D.preset,
         model: str | Path | None = _D.model, batches: Values = _D.batches, resizes: Values = _D.resizes,
         gpu_memories: Values = _D.gpu_memories, device: str | None = _D.device,
         images: str | Path | None = _D.images, seed: int | str = _D.seed, duration: float | str | None = _D.duration,
         warmup: int | str = _D.warmup, until_decided: bool = _D.until_decided, force: bool = _D.force,
         sample_interval: float | str = _D.sample_interval, signal_every: int | str = _D.signal_every,
         fail_on_leak: bool = _D.fail_on_leak, leak_threshold: float | str = _D.leak_threshold,
         iteration_timeout: float | str | None = _D.iteration_timeout, memory_limit: int | str | None = _D.memory_limit,
         redact_paths: bool = _D.redact_paths, show_progress: bool = _D.show_progress, backend: str = _D.backend,
         ray_address: str | None = _D.ray_address, ray_cpus_per_strategy: int | str | None = _D.ray_cpus_per_strategy,
         attribute: str = _D.attribute, command_line: Iterable[str] | None = None) -> SoakResult:
    """Run workloads and/or built-in strategies, each in its own child, and judge them.

    The options are those of `leakhunt soak` with Python names (SoakOptions documents each): preset, model,
    batches, resizes, gpu_memories, device, images, seed, duration ("30m" or seconds), warmup, until_decided
    (False = --exact), force, sample_interval, signal_every, fail_on_leak, leak_threshold, iteration_timeout,
    memory_limit ("4GiB" or bytes), redact_paths, show_progress, labels, backend ("local" or "ray"),
    ray_address, ray_cpus_per_strategy, attribute ("auto": where each leak is; "off").
    """
    return run_soak(SoakOptions(
        workloads=tuple(workload_reference(w) for w in workloads), labels=_as_tuple(labels),
        strategies=_as_tuple(strategies), preset=preset, model=None if model is None else str(model),
        batches=_as_tuple(batches), resizes=_as_tuple(resizes), gpu_memories=_as_tuple(gpu_memories),
        device=device, images=None if images is None else str(images), seed=seed, iterations=iterations,
        duration=duration, warmup=warmup, until_decided=until_decided, out=None if out is None else Path(out),
        force=force, sample_interval=sample_interval, signal_every=signal_every, fail_on_leak=fail_on_leak,
        leak_threshold=leak_threshold, iteration_timeout=iteration_timeout, memory_limit=memory_limit,
        redact_paths=redact_paths, show_progress=show_progress, backend=backend, ray_address=ray_address,
        ray_cpus_per_strategy=ray_cpus_per_strategy, attribute=attribute,
        command_line=_D.command_line if not command_line else tuple(command_line)))


# soak()'s options by name: the pytest fixture passes its extra keyword arguments on and checks them first.
SOAK_KEYWORDS = tuple(name for name, parameter in inspect.signature(soak).parameters.items()
                      if parameter.kind is inspect.Parameter.KEYWORD_ONLY)


def run_soak(options: SoakOptions) -> SoakResult:
    """The one code path of `leakhunt soak` and `leakhunt.soak()`: options checked into a RunConfig, run, judged."""
    from leakhunt import runner
    from leakhunt.runner.soak_setup import build_run_config

    result = runner.run(build_run_config(options))
    return SoakResult(
        run_dir=result.run_dir, exit_code=result.exit_code,
        leak_found=bool(result.summary.get("leak_found")), interrupted=result.interrupted,
        strategies=tuple(StrategyResult.from_summary_entry(e) for e in result.summary.get("strategies", [])),
        summary=result.summary, bad_workload_errors=tuple(result.bad_workload_errors),
    )
