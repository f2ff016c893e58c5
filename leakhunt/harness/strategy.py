"""One strategy, start to end: write its task, launch the child, monitor it, classify how it ended, and
write status.json. Every step that can fail leaves the child reaped and its data on disk."""

from __future__ import annotations

import time
from pathlib import Path

from leakhunt import rundir
from leakhunt.harness.exit_status import Observed, StrategyStatus, classify
from leakhunt.harness.launch import LaunchedChild
from leakhunt.harness.monitor import Monitor, MonitorResult
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.harness.settle_watch import SettleWatcher
from leakhunt.rundir.config import ChildTask, RunConfig, StrategySpec
from leakhunt.rundir.progress_file import PROGRESS_FILE, ProgressFile
from leakhunt.rundir.records import StatusJson
from leakhunt.sampling import NvmlSampler, RssSampler
from leakhunt.units import human_duration

# After its last step the child stays alive this many sample intervals (at most LINGER_MAX_S) so the parent
# samples its final memory before close() frees it.
LINGER_SAMPLE_INTERVALS = 2.5
LINGER_MAX_S = 2.0
# The "at most this long" line waits for this many steps after the warm-up (or 10 steps) to know the pace.
PACE_STEPS = 3


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
        self.announced_longest = False

    def _write_task(self) -> Path:
        config = self.config
        task = ChildTask(
            spec=self.spec, strategy_dir=self.strategy_dir.resolve(), iterations=config.iterations,
            duration_s=config.duration_s, warmup_steps=config.warmup_steps,
            signal_every_steps=config.signal_every_steps,
            final_linger_s=min(LINGER_SAMPLE_INTERVALS * config.sample_interval_s, LINGER_MAX_S),
            until_decided=config.until_decided,
        )
        task_path = self.strategy_dir / "task.json"
        rundir.write_json_atomic(task_path, task.to_json())
        return task_path

    def _announce_longest(self, steps_done: int, rate: float | None) -> None:
        """Once the first steps give a pace: how long this strategy takes at most."""
        config = self.config
        if self.announced_longest or not rate or steps_done < min(config.warmup_steps + PACE_STEPS, 10):
            return
        self.announced_longest = True
        longest_s = (config.warmup_steps + config.iterations - steps_done) / rate
        if config.duration_s is not None:
            longest_s = min(longest_s, config.duration_s)
        early = "; stops earlier once its verdict is settled" if config.until_decided else ""
        self.display.message(f"leakhunt: {self.spec.name}: at most {human_duration(longest_s)} more "
                             f"({config.iterations} iterations at {rate:.3g}/s){early}")

    def _progress(self, steps_done: int, rate: float | None, rss_bytes: float | None,
                  growth: float | None) -> None:
        self.display.update(steps_done, rate, rss_bytes, growth)
        self._announce_longest(steps_done, rate)

    def _watch(self, child: LaunchedChild, progress: ProgressFile, settle: SettleWatcher | None) -> tuple[
            MonitorResult, bool, str | None]:
        """Monitor the child; (what the monitor saw, interrupted, the parent's own error)."""
        samples = rundir.CsvAppender(self.strategy_dir / rundir.SAMPLES_FILE, rundir.SAMPLE_COLUMNS)
        monitor = Monitor(self.config, self.rss, self.nvml, progress, samples, child.kill, self._progress,
                          None if settle is None else settle.check)
        assert child.process is not None  # set by LaunchedChild.__enter__
        try:
            monitor.run(child.process, police_memory=child.cgroup is None)
        except KeyboardInterrupt:
            return monitor.result, True, None
        except Exception as error:  # noqa: BLE001 - a bug in the parent ends this strategy, not the run
            return monitor.result, False, f"leakhunt internal error while sampling: {type(error).__name__}: {error}"
        finally:
            samples.close()
        return monitor.result, False, None

    def run(self) -> StatusJson:
        config, strategy_dir = self.config, self.strategy_dir
        strategy_dir.mkdir(parents=True, exist_ok=False)
        rundir.write_json_atomic(strategy_dir / rundir.STRATEGY_FILE, self.spec.to_json())
        task_path = self._write_task()
        progress = ProgressFile(strategy_dir / PROGRESS_FILE, create=True)
        settle = SettleWatcher(config, strategy_dir) if config.until_decided else None
        self.display.start_strategy(self.index, self.count, self.spec.name, config.warmup_steps + config.iterations)
        started_wall_s = time.monotonic()
        launched = LaunchedChild(task_path, strategy_dir / "child.log", config.memory_limit_bytes)
        seen, interrupted, parent_error = MonitorResult(), False, None
        try:
            with launched as child:
                if self.nvml is not None:
                    self.nvml.start_watch(child.pid)
                seen, interrupted, parent_error = self._watch(child, progress, settle)
        finally:
            final_steps, _ = progress.read()
            progress.close()
            if settle is not None:
                settle.close()
            status = self._classify(launched, seen, max(seen.steps_done, final_steps), started_wall_s,
                                    interrupted, parent_error, settle)
            rundir.write_json_atomic(strategy_dir / rundir.STATUS_FILE, status.to_json())
            self.display.finish_strategy(status.steps_completed, f"{status.outcome}: {status.description} "
                                                                 f"({status.iterations_completed} iterations, "
                                                                 f"{status.wall_time_s:.1f} s)")
        if interrupted:
            raise KeyboardInterrupt
        return status.to_json()

    def _classify(self, launched: LaunchedChild, seen: MonitorResult, steps_done: int, started_wall_s: float,
                  interrupted: bool, parent_error: str | None, settle: SettleWatcher | None) -> StrategyStatus:
        process = launched.process
        observed = Observed(
            returncode=None if process is None else process.returncode, steps_done=steps_done,
            wall_time_s=time.monotonic() - started_wall_s, warmup_steps=self.config.warmup_steps,
            interrupted=interrupted, hung=seen.hung, memory_limit_hit=seen.memory_limit_hit,
            killed_reason=seen.killed_reason, parent_error=parent_error, oom_kills=launched.final_oom_kills,
            in_own_cgroup=launched.cgroup is not None, memory_limit_bytes=self.config.memory_limit_bytes,
            memory_limit_method=launched.memory_limit_method,
            gpu_process_attribution=None if self.nvml is None else self.nvml.attribution(),
            stop_reason=None if settle is None else settle.stop_reason,
            settled_at_iteration=None if settle is None else settle.settled_at_iteration,
            stop_requested_monotonic_s=None if settle is None else settle.stop_requested_s,
        )
        return classify(observed, self.strategy_dir)
