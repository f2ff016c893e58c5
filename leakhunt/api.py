"""The Python API: `leakhunt.soak(...)` runs what `leakhunt soak` runs and returns a typed result.

The CLI calls this same function (one code path). Workloads are "FILE.py:FUNC" / "module:FUNC" strings or
module-level functions, which become an importable reference for the child. Bad input raises
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
from typing import Any, Callable, Iterable, Union

from leakhunt.errors import BadInputError

Workload = Union[str, Callable[..., Any]]
# Soak options that take several values (the CLI repeats them); a single string is accepted too.
_LIST_OPTIONS = ("labels", "batches", "resizes", "gpu_memories")
_DEFAULTS: dict[str, Any] = {
    "labels": (), "preset": None, "model": None, "batches": (), "resizes": (), "gpu_memories": (),
    "device": None, "images": None, "seed": 0, "duration": None, "warmup": 10, "force": False,
    "sample_interval": 0.1, "signal_every": "auto", "fail_on_leak": False, "leak_threshold": 0,
    "iteration_timeout": None, "memory_limit": None, "redact_paths": False, "show_progress": False,
    "until_decided": True, "command_line": None, "backend": "local", "ray_address": None,
    "ray_cpus_per_strategy": None, "attribute": "auto",
}


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
    latency_ms: dict[str, float | None]
    latency_drift_significant: bool
    more_iterations_needed: int | None
    stopped_early: bool
    stop_reason: str
    error_text: str | None
    entry: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_summary_entry(cls, entry: dict[str, Any]) -> "StrategyResult":
        ci = entry.get("rss_slope_ci95_bytes_per_iter")
        return cls(
            name=str(entry.get("name")), verdict=str(entry.get("verdict")),
            verdict_reason=str(entry.get("verdict_reason") or ""),
            iterations_completed=int(entry.get("iterations_completed") or 0),
            rss_slope_bytes_per_iter=entry.get("rss_slope_bytes_per_iter"),
            rss_slope_ci95_bytes_per_iter=None if not ci else (float(ci[0]), float(ci[1])),
            deciding_series=entry.get("deciding_series"),
            deciding_slope_bytes_per_iter=entry.get("deciding_slope_bytes_per_iter"),
            latency_ms=dict(entry.get("latency_ms") or {}),
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
    summary: dict[str, Any] = field(repr=False, compare=False)
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


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    return [str(item) for item in value]


def soak(*workloads: Workload, strategies: Iterable[str] | str = (), iterations: int | str = 500,
         out: str | Path | None = None, **options: Any) -> SoakResult:
    """Run workloads and/or built-in strategies, each in its own child, and judge them.

    Options are those of `leakhunt soak` with Python names: preset, model, batches, resizes, gpu_memories,
    device, images, seed, duration ("30m" or seconds), warmup, force, sample_interval, signal_every,
    fail_on_leak, leak_threshold, iteration_timeout, memory_limit ("4GiB" or bytes), redact_paths,
    show_progress, until_decided (default True; False = --exact), labels, backend ("local" or "ray"),
    ray_address, ray_cpus_per_strategy, attribute ("auto", the default: where each leak is; "off").
    """
    from leakhunt import runner
    from leakhunt.runner.soak_setup import build_run_config

    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise BadInputError(f"unknown soak option {unknown[0]!r}; known: {', '.join(sorted(_DEFAULTS))}")
    values = {**_DEFAULTS, **options}
    for name in _LIST_OPTIONS:
        values[name] = _as_list(values[name])
    duration = values["duration"]
    if isinstance(duration, (int, float)) and not isinstance(duration, bool):
        duration = f"{duration}s"
    command_line = values["command_line"] or ("leakhunt.soak()",)
    config = build_run_config(
        workloads=[workload_reference(w) for w in workloads], labels=values["labels"],
        strategies=_as_list(strategies), preset=values["preset"],
        model=None if values["model"] is None else str(values["model"]), batches=values["batches"],
        resizes=values["resizes"], gpu_memories=values["gpu_memories"], device=values["device"],
        images=None if values["images"] is None else str(values["images"]), seed=str(values["seed"]),
        iterations=str(iterations), duration=None if duration is None else str(duration),
        warmup=str(values["warmup"]), out=None if out is None else Path(out), force=bool(values["force"]),
        sample_interval=str(values["sample_interval"]), signal_every=str(values["signal_every"]),
        fail_on_leak=bool(values["fail_on_leak"]), leak_threshold=str(values["leak_threshold"]),
        iteration_timeout=None if values["iteration_timeout"] is None else str(values["iteration_timeout"]),
        memory_limit=None if values["memory_limit"] is None else str(values["memory_limit"]),
        redact_paths=bool(values["redact_paths"]), show_progress=bool(values["show_progress"]),
        command_line=tuple(command_line), until_decided=bool(values["until_decided"]),
        backend=str(values["backend"]), ray_address=values["ray_address"],
        ray_cpus_per_strategy=None if values["ray_cpus_per_strategy"] is None
        else str(values["ray_cpus_per_strategy"]), attribute=str(values["attribute"]),
    )
    result = runner.run(config)
    return SoakResult(
        run_dir=result.run_dir, exit_code=result.exit_code,
        leak_found=bool(result.summary.get("leak_found")), interrupted=result.interrupted,
        strategies=tuple(StrategyResult.from_summary_entry(e) for e in result.summary.get("strategies", [])),
        summary=result.summary, bad_workload_errors=tuple(result.bad_workload_errors),
    )
