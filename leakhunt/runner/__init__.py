"""The parent's side of a soak: options in, a run folder and its outputs out. One fresh child per strategy.

One strategy's child is launched, watched, reaped and classified by leakhunt/harness/; where the strategies
run (one after another here, or spread over a Ray cluster) is the backend's job (leakhunt/backends/). This
module owns the run: its folder, the samplers, run.json, the exit code and the outputs. soak_setup.py turns
options into a validated RunConfig (values.py parses what users type); env.py captures the environment for
run.json; doctor.py is `leakhunt doctor` (what this machine can measure).

May import: backends, harness, attribution, sampling, rundir, strategies, models, workloads, report (the
outputs), analysis (the summary's types), soak_options, errors, units. Never the child (it is a process this
package starts, not a module it calls).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import psutil

from leakhunt import rundir
from leakhunt.backends import Backend, Statuses, make_backend
from leakhunt.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_LEAK_FOUND, EXIT_OK, BadInputError, WorkloadError
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.harness.strategy import StrategyRun
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.run_json import GpuDevice, RunJson
from leakhunt.runner.env import capture_environment
from leakhunt.sampling import NvmlSampler, RssSampler

if TYPE_CHECKING:
    from leakhunt.analysis.summary_types import Summary

__all__ = ["RunResult", "StrategyRun", "default_out_dir", "probe_samplers", "run", "summary_lines"]


@dataclass
class RunResult:
    run_dir: Path
    summary: Summary
    exit_code: int
    interrupted: bool
    bad_workload_errors: list[str]


def utc_now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_out_dir(reports_root: Path = Path("reports")) -> Path:
    return reports_root / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def prepare_out_dir(out_dir: Path, force: bool) -> None:
    """Create the run folder, or refuse (BadInputError) before anything runs."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(f"--out {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise BadInputError(f"--out {out_dir} is not empty; choose a new folder or pass --force")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".leakhunt-write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        raise BadInputError(f"cannot write to --out {out_dir}: {error.strerror or error}") from None
    if force:
        # Stale strategy data from an earlier run would be read as this run's.
        for stale in (rundir.STRATEGIES_DIR,):
            target = out_dir / stale
            if target.is_dir():
                shutil.rmtree(target)


class GpuInfo(TypedDict):
    """The GPUs NVML sees at the start of a run (none without NVML), for run.json's environment and host."""

    devices: list[GpuDevice]
    driver_version: str | None


def probe_samplers(config: RunConfig) -> tuple[RssSampler, NvmlSampler | None, dict[str, str], GpuInfo]:
    rss = RssSampler()
    rss_probe = rss.probe()
    if not rss_probe.available:
        raise BadInputError(f"cannot sample process memory here: {rss_probe.reason}")
    nvml = NvmlSampler()
    nvml_probe = nvml.probe()
    gpu_info: GpuInfo = {"devices": [], "driver_version": None}
    if nvml_probe.available:
        gpu_info = {"devices": nvml.describe_devices(), "driver_version": nvml.driver_version()}
    samplers = {"rss": rss_probe.describe(), "nvml": nvml_probe.describe()}
    return rss, (nvml if nvml_probe.available else None), samplers, gpu_info


def _start_run(config: RunConfig, samplers: dict[str, str], gpu_info: GpuInfo) -> RunJson:
    """Write run.json (the run's config, environment and samplers) before any child starts."""
    gpu_total = sum(d.get("memory_total_bytes", 0) for d in gpu_info["devices"]) or None
    meta: RunJson = {
        "leakhunt_run_format": rundir.RUN_FOLDER_FORMAT,
        "config": config.to_json(),
        "command_line": list(config.command_line),
        "environment": capture_environment(gpu_info["devices"], gpu_info["driver_version"]),
        "samplers": samplers,
        "host": {"available_memory_bytes": int(psutil.virtual_memory().available), "gpu_total_bytes": gpu_total},
        "started_utc": utc_now_iso(),
        "finished_utc": None,
        "interrupted": False,
        "notes": list(config.notes),
    }
    rundir.write_json_atomic(config.out_dir / rundir.RUN_META_FILE, meta)
    (config.out_dir / rundir.STRATEGIES_DIR).mkdir(exist_ok=True)
    return meta


def _exit_code(config: RunConfig, summary: Summary, interrupted: bool, bad_workload: bool) -> int:
    from leakhunt.report.build import leak_found

    if interrupted:
        return EXIT_INTERRUPTED
    if bad_workload:
        return EXIT_BAD_INPUT
    if config.fail_on_leak and leak_found(summary, config.leak_threshold_bytes_per_iter):
        return EXIT_LEAK_FOUND
    return EXIT_OK


def run(config: RunConfig) -> RunResult:
    """The core of `leakhunt soak`. Raises BadInputError before anything runs if the config is unusable."""
    folder_was_new = not config.out_dir.exists() or not any(config.out_dir.iterdir())
    rss, nvml, samplers, gpu_info = probe_samplers(config)
    backend = make_backend(config, rss, nvml)
    try:
        # A missing Ray or an unreachable cluster is bad input: said before any folder is created.
        backend.connect()
        prepare_out_dir(config.out_dir, config.force)
        statuses, interrupted = _run_with(backend, config, nvml, samplers, gpu_info)
    finally:
        backend.close()
        if nvml is not None:
            nvml.close()
    bad_workload_errors = [f"{config.strategies[index].name}: {status['description']}"
                           for index, status in sorted(statuses.items()) if status.get("bad_workload")]
    if statuses and not interrupted and len(bad_workload_errors) == len(statuses):
        # Nothing was measured: the input was bad. Leave no half-written run folder behind.
        if folder_was_new:
            shutil.rmtree(config.out_dir, ignore_errors=True)
        raise WorkloadError(bad_workload_errors[0])
    if config.redact_paths:
        redact_run_folder(config.out_dir)
    from leakhunt.report.build import build_outputs

    summary = build_outputs(config.out_dir, redact_paths=config.redact_paths)
    exit_code = _exit_code(config, summary, interrupted, bool(bad_workload_errors))
    return RunResult(config.out_dir, summary, exit_code, interrupted, bad_workload_errors)


def _run_with(backend: Backend, config: RunConfig, nvml: NvmlSampler | None, samplers: dict[str, str],
              gpu_info: GpuInfo) -> tuple[Statuses, bool]:
    """Write run.json, let the backend run the strategies, and finish run.json (also on Ctrl-C)."""
    display = ProgressDisplay(enabled=config.show_progress)
    meta = _start_run(config, samplers, gpu_info)
    display.message(f"leakhunt: run folder {config.out_dir}")
    for note in config.notes:
        display.message(f"leakhunt: {note}")
    if nvml is None and config.backend == "local":
        display.message(f"leakhunt: GPU sampling {samplers['nvml']}")
    interrupted = False
    statuses: Statuses = {}
    try:
        backend.run_strategies(config, display, statuses)
    except KeyboardInterrupt:
        interrupted = True
        display.message("leakhunt: interrupted; reporting what was measured")
    finally:
        meta["finished_utc"] = utc_now_iso()
        meta["interrupted"] = interrupted
        meta["backend"] = backend.describe()
        rundir.write_json_atomic(config.out_dir / rundir.RUN_META_FILE, meta)
    return statuses, interrupted


def redact_run_folder(out_dir: Path) -> None:
    """--redact-paths: the raw files are attachable too, so scrub home folders and user names in them."""
    from leakhunt.report.redact import redact, redact_obj

    for path in sorted(out_dir.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".json":
            rundir.write_json_atomic(path, redact_obj(rundir.read_json(path)))
        elif path.suffix in (".log", ".txt"):
            path.write_text(redact(path.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")


def summary_lines(summary: Summary) -> list[str]:
    """The terminal summary (human units, then the recommendation): report/terminal.py renders it."""
    from leakhunt.report.terminal import terminal_summary_lines

    return terminal_summary_lines(summary)
