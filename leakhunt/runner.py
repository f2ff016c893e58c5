"""Runs a soak: one fresh child process per strategy, one after another, sampled from the parent.

Concurrent children would pollute each other's memory readings, so strategies run in sequence. Every
child is reaped whatever happens (normal end, fault, Ctrl-C, an error in the parent itself).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from leakhunt import rundir
from leakhunt.child import CHILD_EXIT_BAD_WORKLOAD, CHILD_EXIT_COMPLETED, CHILD_EXIT_WORKLOAD_RAISED, FAULT_FILE
from leakhunt.config import ChildTask, RunConfig, StrategySpec
from leakhunt.env import capture_environment
from leakhunt.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_LEAK_FOUND, EXIT_OK, BadInputError, WorkloadError
from leakhunt.analysis.settle import SettleTracker, take_look
from leakhunt.progress_file import PROGRESS_FILE, STOP_FILE, ProgressFile, StopFlag
from leakhunt.progress_ui import ProgressDisplay
from leakhunt.report.formatting import fmt_bytes, fmt_duration
from leakhunt.sampling import NvmlSampler, RssSampler
from leakhunt.sampling.memcap import MemoryCgroup
from leakhunt.sampling.oom import oom_kill_count

TERMINATE_GRACE_S = 2.0  # SIGTERM first so the child can flush; SIGKILL after this


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]
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


def _describe_exit(returncode: int) -> tuple[str, int | None, str | None, str]:
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


class SettleWatcher:
    """--until-decided: looks at the child's readings now and then and asks it to stop once settled."""

    def __init__(self, config: RunConfig, strategy_dir: Path):
        self.config = config
        self.iterations_path = strategy_dir / rundir.ITERATIONS_FILE
        self.flag = StopFlag(strategy_dir / STOP_FILE, create=True)
        self.tracker = SettleTracker(config.iterations)
        self.stop_reason: str | None = None
        self.next_look_s = 0.0

    def check(self, steps_done: int, now_s: float) -> None:
        measured = steps_done - self.config.warmup_steps
        if self.stop_reason or not self.tracker.due(measured) or now_s < self.next_look_s:
            return
        started_s = time.monotonic()
        iterations = rundir.read_csv_tolerant(self.iterations_path, rundir.ITERATION_COLUMNS)
        look = take_look(iterations, self.config.warmup_steps, self.config.iterations)
        # A look reads the whole file: never spend more than ~5% of the parent's time on looks.
        self.next_look_s = time.monotonic() + 20 * (time.monotonic() - started_s)
        self.stop_reason = self.tracker.record(look, measured)
        if self.stop_reason:
            self.flag.request_stop()

    def close(self) -> None:
        self.flag.close()


class StrategyRun:
    """One child: spawn, sample, watch for faults, reap, write status.json."""

    def __init__(self, index: int, count: int, spec: StrategySpec, config: RunConfig, strategy_dir: Path,
                 rss: RssSampler, nvml: NvmlSampler | None, display: ProgressDisplay):
        self.index = index
        self.count = count
        self.spec = spec
        self.config = config
        self.strategy_dir = strategy_dir
        self.rss = rss
        self.nvml = nvml
        self.display = display
        self.killed_reason: str | None = None
        self.memory_limit_hit = False
        self.hung = False
        self.interrupted = False
        self.parent_error: str | None = None
        self.memory_cgroup: MemoryCgroup | None = None
        self.memory_limit_method: str | None = None
        self.settle: SettleWatcher | None = None
        self.announced_longest = False

    def _announce_longest(self, steps_done: int, rate: float | None) -> None:
        """Once the first steps give a pace: how long this strategy takes at most."""
        config = self.config
        if self.announced_longest or not rate or steps_done < min(config.warmup_steps + 3, 10):
            return
        self.announced_longest = True
        longest_s = (config.warmup_steps + config.iterations - steps_done) / rate
        if config.duration_s is not None:
            longest_s = min(longest_s, config.duration_s)
        early = "; stops earlier once its verdict is settled" if config.until_decided else ""
        self.display.message(f"leakhunt: {self.spec.name}: at most {fmt_duration(longest_s)} more "
                             f"({config.iterations} iterations at {rate:.3g}/s){early}")

    def run(self) -> dict[str, Any]:
        config = self.config
        strategy_dir = self.strategy_dir
        strategy_dir.mkdir(parents=True, exist_ok=False)
        rundir.write_json_atomic(strategy_dir / rundir.STRATEGY_FILE, self.spec.to_json())
        task = ChildTask(
            spec=self.spec,
            strategy_dir=strategy_dir.resolve(),
            iterations=config.iterations,
            duration_s=config.duration_s,
            warmup_steps=config.warmup_steps,
            signal_every_steps=config.signal_every_steps,
            final_linger_s=min(2.5 * config.sample_interval_s, 2.0),
        )
        task_path = strategy_dir / "task.json"
        rundir.write_json_atomic(task_path, task.to_json())
        progress = ProgressFile(strategy_dir / PROGRESS_FILE, create=True)
        self.settle = SettleWatcher(config, strategy_dir) if config.until_decided else None
        samples = rundir.CsvAppender(strategy_dir / rundir.SAMPLES_FILE, rundir.SAMPLE_COLUMNS)
        log_handle = open(strategy_dir / "child.log", "wb")
        total_steps = config.warmup_steps + config.iterations
        self.display.start_strategy(self.index, self.count, self.spec.name, total_steps)
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = package_root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        started_wall_s = time.monotonic()
        # The child inherits our cgroup: its OOM-kill counter, before and after, tells an OOM kill apart.
        oom_kills_before = oom_kill_count(os.getpid())
        if config.memory_limit_bytes:
            self.memory_cgroup = MemoryCgroup.create(config.memory_limit_bytes)
        process = subprocess.Popen(
            [sys.executable, "-m", "leakhunt.child", str(task_path.resolve())],
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            # Own session: a terminal Ctrl-C reaches only the parent, which then stops the child cleanly.
            start_new_session=True,
        )
        if self.memory_cgroup is not None and not self.memory_cgroup.add(process.pid):
            self.memory_cgroup.remove()
            self.memory_cgroup = None
        if config.memory_limit_bytes:
            self.memory_limit_method = ("parent RSS check" if self.memory_cgroup is None
                                        else self.memory_cgroup.describe())
        steps_done = -1
        if self.nvml is not None:
            self.nvml.start_watch(process.pid)
        try:
            steps_done = self._monitor(process, progress, samples, started_wall_s)
        except KeyboardInterrupt:
            self.interrupted = True
            raise
        except Exception as error:  # noqa: BLE001 - a bug in the parent ends this strategy, not the run
            self.parent_error = f"leakhunt internal error while sampling: {type(error).__name__}: {error}"
        finally:
            self._reap(process)
            final_steps, _ = progress.read()
            steps_done = max(steps_done, final_steps)
            samples.close()
            progress.close()
            if self.settle is not None:
                self.settle.close()
            log_handle.close()
            oom_kills_after = oom_kill_count(os.getpid())
            if self.memory_cgroup is not None:
                cgroup_oom_kills = self.memory_cgroup.oom_kills()
                self.memory_cgroup.remove()
                if cgroup_oom_kills is not None:
                    # The child's own cgroup: every OOM kill in it is the child's.
                    oom_kills_before, oom_kills_after = 0, cgroup_oom_kills
            status = self._status(process.returncode, steps_done, time.monotonic() - started_wall_s,
                                  oom_kills_before, oom_kills_after)
            rundir.write_json_atomic(strategy_dir / rundir.STATUS_FILE, status)
            self.display.finish_strategy(steps_done, f"{status['outcome']}: {status['description']} "
                                                     f"({status['iterations_completed']} iterations, "
                                                     f"{status['wall_time_s']:.1f} s)")
        return status

    def _monitor(self, process: subprocess.Popen, progress: ProgressFile, samples: rundir.CsvAppender,
                 started_wall_s: float) -> int:
        config = self.config
        interval_s = config.sample_interval_s
        next_sample_s = time.monotonic()
        steps_done = -1
        baseline_rss: float | None = None
        rate_window: list[tuple[float, int]] = []
        while True:
            returncode = process.poll()
            now_s = time.monotonic()
            steps_done, step_start_s = progress.read()
            row: dict[str, Any] = {"t_monotonic_s": now_s, "steps_done": steps_done}
            try:
                row.update(self.rss.sample(process.pid))
            except (psutil.NoSuchProcess, psutil.ZombieProcess, ProcessLookupError):
                # The child ended between poll() and the read: reap it and stop sampling.
                returncode = process.wait()
            if self.nvml is not None:
                row.update(self.nvml.sample(process.pid))
            if row.get("rss_bytes") is not None:
                samples.write_line(",".join(rundir.format_optional(row.get(c)) if c != "nvml_error"
                                            else _csv_text(row.get(c)) for c in rundir.SAMPLE_COLUMNS) + "\n",
                                   now_s)
            if returncode is not None:
                return steps_done
            rss_bytes = row.get("rss_bytes")
            if baseline_rss is None and steps_done >= config.warmup_steps and rss_bytes is not None:
                baseline_rss = rss_bytes
            if (config.memory_limit_bytes and self.memory_cgroup is None and rss_bytes is not None
                    and rss_bytes > config.memory_limit_bytes):
                self.memory_limit_hit = True
                self.killed_reason = (f"out of memory: RSS {fmt_bytes(rss_bytes)} exceeded --memory-limit "
                                      f"{fmt_bytes(config.memory_limit_bytes)} at iteration "
                                      f"{max(steps_done - config.warmup_steps, 0)}")
                self._kill(process)
                continue
            if (config.iteration_timeout_s and steps_done >= 0 and step_start_s > 0
                    and now_s - step_start_s > config.iteration_timeout_s):
                self.hung = True
                self.killed_reason = (f"hung: step {steps_done} ran longer than --iteration-timeout "
                                      f"{config.iteration_timeout_s:g} s; the child was killed")
                self._kill(process)
                continue
            rate_window.append((now_s, max(steps_done, 0)))
            while len(rate_window) > 2 and now_s - rate_window[0][0] > 5.0:
                rate_window.pop(0)
            rate = None
            if len(rate_window) >= 2 and rate_window[-1][0] > rate_window[0][0] and steps_done > 0:
                rate = (rate_window[-1][1] - rate_window[0][1]) / (rate_window[-1][0] - rate_window[0][0])
            growth = None if baseline_rss is None or rss_bytes is None else rss_bytes - baseline_rss
            self.display.update(steps_done, rate, rss_bytes, growth)
            self._announce_longest(steps_done, rate)
            if self.settle is not None:
                self.settle.check(steps_done, now_s)
            next_sample_s += interval_s
            sleep_s = next_sample_s - time.monotonic()
            if sleep_s < 0:
                # Fell behind (slow sampler or loaded machine): skip missed ticks rather than burst.
                next_sample_s = time.monotonic()
                sleep_s = 0.0
            time.sleep(sleep_s)

    @staticmethod
    def _kill(process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.kill()
            process.wait()

    @staticmethod
    def _reap(process: subprocess.Popen) -> None:
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _status(self, returncode: int | None, steps_done: int, wall_time_s: float,
                oom_kills_before: int | None = None, oom_kills_after: int | None = None) -> dict[str, Any]:
        warmup = self.config.warmup_steps
        steps_completed = max(steps_done, 0)
        outcome, signum, signame, description = _describe_exit(returncode if returncode is not None else -9)
        if self.interrupted:
            outcome, description = "interrupted", "interrupted by Ctrl-C; the child was stopped"
        elif self.hung:
            outcome, description = "hung", self.killed_reason or "hung"
        elif self.memory_limit_hit:
            outcome, description = "crashed", self.killed_reason or "out of memory"
        elif self.parent_error:
            outcome, description = "crashed", self.parent_error
        oom_kills = None
        if oom_kills_before is not None and oom_kills_after is not None:
            oom_kills = oom_kills_after - oom_kills_before
        if signame == "SIGKILL" and outcome == "crashed" and not self.memory_limit_hit and oom_kills:
            if self.memory_cgroup is not None:
                self.memory_limit_hit = True
                description = (f"out of memory: the kernel OOM-killed it at the --memory-limit "
                               f"{fmt_bytes(self.config.memory_limit_bytes)} cgroup cap at iteration "
                               f"{max(steps_completed - warmup, 0)}")
            else:
                description = (f"killed by the kernel's OOM killer (the cgroup's oom_kill count rose by "
                               f"{oom_kills} while it ran): out of memory")
        error = None
        error_path = self.strategy_dir / rundir.ERROR_FILE
        if error_path.exists():
            try:
                error = rundir.read_json(error_path)
            except (OSError, ValueError):
                error = None
        if error is not None and outcome == "failed":
            description = f"raised {error.get('type')}: {error.get('message')}"
            if returncode == CHILD_EXIT_BAD_WORKLOAD:
                description = str(error.get("message"))
        fault_text = ""
        fault_path = self.strategy_dir / FAULT_FILE
        if fault_path.exists():
            fault_text = fault_path.read_text(encoding="utf-8", errors="replace").strip()
        status = {
            "outcome": outcome,
            "exit_code": returncode,
            "signal": signum,
            "signal_name": signame,
            "description": description,
            "steps_completed": steps_completed,
            "iterations_completed": max(steps_completed - warmup, 0),
            "warmup_completed": min(steps_completed, warmup),
            "wall_time_s": round(wall_time_s, 3),
            "memory_limit_hit": self.memory_limit_hit,
            "hung": self.hung,
            "bad_workload": returncode == CHILD_EXIT_BAD_WORKLOAD,
            "cgroup_oom_kills": oom_kills,
            "memory_limit_method": self.memory_limit_method,
        }
        if self.nvml is not None:
            # Whether the zeros in gpu_process_bytes mean "no GPU memory" or "NVML cannot tell" (containers).
            status["gpu_process_attribution"] = self.nvml.attribution()
        status["stopped_early"] = bool(self.settle is not None and self.settle.stop_reason and outcome == "completed")
        status["stop_reason"] = (self.settle.stop_reason if status["stopped_early"]
                                 else f"ran to {status['iterations_completed']}")
        if fault_text:
            status["fault_traceback"] = fault_text[-4000:]
        return status


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    return '"' + str(value).replace('"', "'").replace("\n", " ") + '"'


def probe_samplers(config: RunConfig) -> tuple[RssSampler, NvmlSampler | None, dict[str, str], dict[str, Any]]:
    rss = RssSampler()
    rss_probe = rss.probe()
    if not rss_probe.available:
        raise BadInputError(f"cannot sample process memory here: {rss_probe.reason}")
    nvml = NvmlSampler()
    nvml_probe = nvml.probe()
    gpu_info: dict[str, Any] = {"devices": [], "driver_version": None}
    if nvml_probe.available:
        gpu_info = {"devices": nvml.describe_devices(), "driver_version": nvml.driver_version()}
    samplers = {"rss": rss_probe.describe(), "nvml": nvml_probe.describe()}
    return rss, (nvml if nvml_probe.available else None), samplers, gpu_info


def run(config: RunConfig) -> RunResult:
    """The core of `leakhunt soak`. Raises BadInputError before anything runs if the config is unusable."""
    folder_was_new = not config.out_dir.exists() or not any(config.out_dir.iterdir())
    prepare_out_dir(config.out_dir, config.force)
    rss, nvml, samplers, gpu_info = probe_samplers(config)
    display = ProgressDisplay(enabled=config.show_progress)
    gpu_total = sum(d.get("memory_total_bytes", 0) for d in gpu_info["devices"]) or None
    meta: dict[str, Any] = {
        "leakhunt_run_format": 1,
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
    display.message(f"leakhunt: run folder {config.out_dir}")
    for note in config.notes:
        display.message(f"leakhunt: {note}")
    if nvml is None:
        display.message(f"leakhunt: GPU sampling {samplers['nvml']}")

    interrupted = False
    bad_workload_errors: list[str] = []
    statuses: list[dict[str, Any]] = []
    strategy_wall_s: list[float] = []
    count = len(config.strategies)
    try:
        for index, spec in enumerate(config.strategies):
            if strategy_wall_s:
                remaining_s = (sum(strategy_wall_s) / len(strategy_wall_s)) * (count - index)
                display.message(f"leakhunt: about {remaining_s / 60:.1f} min left for {count - index} "
                                f"more strateg{'y' if count - index == 1 else 'ies'}")
            strategy_dir = config.out_dir / rundir.STRATEGIES_DIR / rundir.strategy_dir_name(index, spec.name)
            started_s = time.monotonic()
            status = StrategyRun(index, count, spec, config, strategy_dir, rss, nvml, display).run()
            strategy_wall_s.append(time.monotonic() - started_s)
            statuses.append(status)
            if status.get("bad_workload"):
                bad_workload_errors.append(f"{spec.name}: {status['description']}")
    except KeyboardInterrupt:
        interrupted = True
        display.message("leakhunt: interrupted; reporting what was measured")
    finally:
        if nvml is not None:
            nvml.close()
        meta["finished_utc"] = utc_now_iso()
        meta["interrupted"] = interrupted
        rundir.write_json_atomic(config.out_dir / rundir.RUN_META_FILE, meta)

    if statuses and not interrupted and all(status.get("bad_workload") for status in statuses):
        # Nothing was measured: the input was bad. Leave no half-written run folder behind.
        if folder_was_new:
            shutil.rmtree(config.out_dir, ignore_errors=True)
        raise WorkloadError(bad_workload_errors[0])
    if config.redact_paths:
        redact_run_folder(config.out_dir)
    from leakhunt.report.build import build_outputs, leak_found

    summary = build_outputs(config.out_dir, redact_paths=config.redact_paths)
    if interrupted:
        exit_code = EXIT_INTERRUPTED
    elif bad_workload_errors:
        exit_code = EXIT_BAD_INPUT
    elif config.fail_on_leak and leak_found(summary, config.leak_threshold_bytes_per_iter):
        exit_code = EXIT_LEAK_FOUND
    else:
        exit_code = EXIT_OK
    return RunResult(config.out_dir, summary, exit_code, interrupted, bad_workload_errors)


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


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """A compact text table for the terminal (the report has the full picture)."""
    lines = []
    for entry in summary.get("strategies", []):
        slope = entry.get("rss_slope_bytes_per_iter")
        ci = entry.get("rss_slope_ci95_bytes_per_iter") or [None, None]
        latency = entry.get("latency_ms") or {}
        slope_text = "-" if slope is None else f"{slope:+.0f} B/iter"
        ci_text = "" if None in ci else f" [{ci[0]:+.0f}, {ci[1]:+.0f}]"
        p50 = latency.get("p50")
        iterations_text = f"{entry.get('iterations_completed', 0)} iterations"
        if entry.get("stopped_early"):
            iterations_text = f"stopped at {entry.get('iterations_completed', 0)}: settled"
        lines.append(
            f"  {entry.get('verdict', '?'):<12} {entry.get('name')}: {slope_text}{ci_text}, "
            f"{iterations_text}, "
            f"p50 {'-' if p50 is None else f'{p50:.1f} ms'}"
            + (f" (roughly {entry['more_iterations_needed']} more iterations would decide)"
               if entry.get("verdict") == "inconclusive" and entry.get("more_iterations_needed") else "")
        )
    return lines


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)
