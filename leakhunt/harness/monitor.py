"""Watch one running child on a steady clock: sample its memory, police the memory limit and hung steps,
report progress through a callback, and let --until-decided look at the readings. Returns what it saw."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import psutil

from leakhunt import rundir
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.progress_file import ProgressFile
from leakhunt.sampling.base import SampleRow
from leakhunt.units import human_bytes

RATE_WINDOW_S = 5.0  # the progress rate is measured over the last few seconds


class Child(Protocol):
    pid: int

    def poll(self) -> int | None: ...

    def wait(self) -> int: ...


@dataclass
class MonitorResult:
    steps_done: int = -1
    hung: bool = False
    memory_limit_hit: bool = False
    killed_reason: str | None = None


# progress(steps_done, steps per second or None, rss bytes or None, rss growth since warm-up or None)
ProgressCallback = Callable[[int, "float | None", "float | None", "float | None"], None]


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    return '"' + str(value).replace('"', "'").replace("\n", " ") + '"'


def _cell(column: str, value: object) -> str:
    if column == "nvml_error":
        return _csv_text(value)
    return rundir.format_optional(value if isinstance(value, (int, float)) else None)  # every other column: a number


def _sample_line(row: SampleRow) -> str:
    return ",".join(_cell(column, row.get(column)) for column in rundir.SAMPLE_COLUMNS) + "\n"


class Monitor:
    """The sampling loop of one child; `kill` ends the child, `on_tick` runs once per sample (settle looks)."""

    def __init__(self, config: RunConfig, rss, nvml, progress: ProgressFile, samples: rundir.CsvAppender,
                 kill: Callable[[], None], report_progress: ProgressCallback,
                 on_tick: Callable[[int, float], None] | None = None):
        self.config = config
        self.rss = rss
        self.nvml = nvml
        self.progress = progress
        self.samples = samples
        self.kill = kill
        self.report_progress = report_progress
        self.on_tick = on_tick
        self.result = MonitorResult()
        self._baseline_rss: float | None = None
        self._rate_window: list[tuple[float, int]] = []

    def _sample(self, process: Child, now_s: float, steps_done: int) -> tuple[SampleRow, int | None]:
        returncode = process.poll()
        row: SampleRow = {"t_monotonic_s": now_s, "steps_done": steps_done}
        try:
            row.update(self.rss.sample(process.pid))
        except (psutil.NoSuchProcess, psutil.ZombieProcess, ProcessLookupError):
            # The child ended between poll() and the read: reap it and stop sampling.
            returncode = process.wait()
        if self.nvml is not None:
            row.update(self.nvml.sample(process.pid))
        if row.get("rss_bytes") is not None:
            self.samples.write_line(_sample_line(row), now_s)
        return row, returncode

    def _police(self, rss_bytes: float | None, steps_done: int, step_start_s: float, now_s: float) -> bool:
        """Kill the child past --memory-limit (without a cgroup) or --iteration-timeout; True if killed."""
        config = self.config
        if config.memory_limit_bytes and rss_bytes is not None and rss_bytes > config.memory_limit_bytes:
            self.result.memory_limit_hit = True
            self.result.killed_reason = (
                f"out of memory: RSS {human_bytes(rss_bytes)} exceeded --memory-limit "
                f"{human_bytes(config.memory_limit_bytes)} at iteration {max(steps_done - config.warmup_steps, 0)}")
        elif (config.iteration_timeout_s and steps_done >= 0 and step_start_s > 0
              and now_s - step_start_s > config.iteration_timeout_s):
            self.result.hung = True
            self.result.killed_reason = (f"hung: step {steps_done} ran longer than --iteration-timeout "
                                         f"{config.iteration_timeout_s:g} s; the child was killed")
        else:
            return False
        self.kill()
        return True

    def _rate(self, now_s: float, steps_done: int) -> float | None:
        window = self._rate_window
        window.append((now_s, max(steps_done, 0)))
        while len(window) > 2 and now_s - window[0][0] > RATE_WINDOW_S:
            window.pop(0)
        if len(window) < 2 or window[-1][0] <= window[0][0] or steps_done <= 0:
            return None
        return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])

    def _tick(self, row: SampleRow, steps_done: int, now_s: float) -> None:
        rss_bytes = row.get("rss_bytes")
        if self._baseline_rss is None and steps_done >= self.config.warmup_steps and rss_bytes is not None:
            self._baseline_rss = rss_bytes
        growth = None if self._baseline_rss is None or rss_bytes is None else rss_bytes - self._baseline_rss
        self.report_progress(steps_done, self._rate(now_s, steps_done), rss_bytes, growth)
        if self.on_tick is not None:
            self.on_tick(steps_done, now_s)

    def run(self, process: Child, police_memory: bool) -> MonitorResult:
        """Sample until the child exits; `police_memory` is False when a cgroup enforces the limit."""
        interval_s = self.config.sample_interval_s
        next_sample_s = time.monotonic()
        while True:
            now_s = time.monotonic()
            steps_done, step_start_s = self.progress.read()
            self.result.steps_done = steps_done
            row, returncode = self._sample(process, now_s, steps_done)
            if returncode is not None:
                return self.result
            if self._police(row.get("rss_bytes") if police_memory else None, steps_done, step_start_s, now_s):
                continue
            self._tick(row, steps_done, now_s)
            next_sample_s += interval_s
            sleep_s = next_sample_s - time.monotonic()
            if sleep_s < 0:
                # Fell behind (slow sampler or loaded machine): skip missed ticks rather than burst.
                next_sample_s = time.monotonic()
                sleep_s = 0.0
            time.sleep(sleep_s)
