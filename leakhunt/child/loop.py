"""The child's measured loop: one clocked step, the child's own readings every K steps (K from
sampling/schedule.py) as a row of iterations.csv, the other steps' latency handed to latency.py (a row
each for the first steps, then blocks), forced full collections on a budget (sampling/full_collection.py), and
a stop within about a millisecond of the parent asking for one (--until-decided)."""

from __future__ import annotations

import math
import time
from typing import Any

from leakhunt import rundir
from leakhunt.child.latency import LatencyRecorder
from leakhunt.child.readings import SignalReader
from leakhunt.rundir.config import ChildTask
from leakhunt.rundir.progress_file import STOP_FILE, ProgressFile, StopFlag
from leakhunt.sampling.full_collection import REASON_FINAL, FullCollector
from leakhunt.sampling.schedule import MAX_STEPS_PER_READING, ReadingSchedule

# The stop word is read every step, or every this many seconds of steps when steps are shorter: a settled
# verdict ends the loop within milliseconds, and a sub-microsecond step does not pay 0.2 us per step for it.
STOP_CHECK_PERIOD_S = 0.001


class StepLoop:
    """The measured loop: one clocked step; every K steps the child's own readings, in a row of their own."""

    def __init__(self, task: ChildTask, workload: Any, progress: ProgressFile):
        self.task = task
        self.workload = workload
        self.progress = progress
        self.signals = SignalReader(workload)
        self.total_steps = task.warmup_steps + task.iterations
        self.schedule = ReadingSchedule(self.total_steps, task.signal_every_steps, task.duration_s)
        flush_s = rundir.LIVE_FLUSH_INTERVAL_S if task.until_decided else rundir.FLUSH_INTERVAL_S
        self.writer = rundir.CsvAppender(task.strategy_dir / rundir.ITERATIONS_FILE, rundir.ITERATION_COLUMNS,
                                         flush_interval_s=flush_s)
        # The steps that are not reading steps: a row each at first, then latency blocks (latency.py).
        self.latency = LatencyRecorder(task.strategy_dir, self.writer.write_line,
                                       "," * (len(rundir.ITERATION_COLUMNS) - 4), task.warmup_steps,
                                       MAX_STEPS_PER_READING, self.total_steps, task.duration_s)
        self.collections = rundir.CsvAppender(task.strategy_dir / rundir.COLLECTIONS_FILE,
                                              rundir.COLLECTION_COLUMNS)
        self.collector = FullCollector(self.signals.memory_values, task.iterations, task.warmup_steps,
                                       task.duration_s)
        stop_path = task.strategy_dir / STOP_FILE
        self.stop_flag = StopFlag(stop_path) if stop_path.exists() else None
        self.stopped_early = False
        self.loop_ended_s: float | None = None
        self.reading_cost_s = 0.0
        self.step = 0

    def _reading_row(self, step: int, phase: str, started_s: float, finished_s: float) -> str:
        """The full row of a reading step; the readings come right after the step, always in this order.

        Sets self.reading_cost_s to what the memory readings alone cost: the expensive signals and the
        reference run on time budgets of their own and must not stretch K.
        """
        signals = self.signals
        tf_cells, memory_cells = signals.memory_cells()
        self.reading_cost_s = time.monotonic() - finished_s
        expensive_cells = signals.expensive(finished_s)
        reference, later_reference_cells = signals.reference_cells(finished_s)
        return (f"{step},{phase},{started_s:.6f},{(finished_s - started_s) * 1e3:.4f},"
                f"{tf_cells},{expensive_cells},{memory_cells},{reference},{time.process_time():.6f},"
                f"{self.collector.auto_full_collections()},{later_reference_cells}\n")

    def _collect_if_due(self, step: int, now_s: float) -> float:
        """Run a forced full collection after this reading if one is due; the seconds it took (0.0: none)."""
        requested = 0 if self.stop_flag is None else self.stop_flag.collections_requested()
        reason = self.collector.due(step, now_s, requested)
        if reason is None:
            return 0.0
        line, duration_s = self.collector.collect(step, reason)
        self.collections.write_line(line, now_s)
        self.collections.flush()  # rare rows that a look may need at once
        return duration_s

    def run(self) -> None:
        """Run warm-up and measured steps; self.step is how many were done if the workload raises."""
        task = self.task
        step_fn = self.workload.step
        monotonic = time.monotonic
        mark = self.progress.mark_step_start
        write_line = self.writer.write_line
        warmup_steps = task.warmup_steps
        deadline_s = None if task.duration_s is None else monotonic() + task.duration_s
        try:
            self.step = self._loop(step_fn, mark, write_line, warmup_steps, deadline_s)
        except BaseException:
            # The step the workload raised in (or Ctrl-C reached) is how many were done; the loop published
            # it at that step's start, so the hot loop itself needs no attribute writes.
            self.step = max(self.progress.read()[0], 0)
            raise
        self.loop_ended_s = monotonic()
        if not self.stopped_early and self.step > warmup_steps:
            # The run reached its end: one last post-collection point, outside the measured loop's time.
            line, _ = self.collector.collect(self.step - 1, REASON_FINAL)
            self.collections.write_line(line, monotonic())
        mark(self.step, monotonic())

    def _loop(self, step_fn, mark, write_line, warmup_steps: int, deadline_s: float | None) -> int:
        """The hot loop; returns how many steps were done. Locals only per step: no attribute writes."""
        monotonic = time.monotonic
        record_latency = self.latency.record
        next_reading = 0
        last_reading_end_s = monotonic()
        last_reading_step = -1
        stop_requested = None if self.stop_flag is None else self.stop_flag.stop_requested
        next_stop_check = 0 if stop_requested is not None else self.total_steps
        stop_check_every = 1
        step = 0
        for step in range(self.total_steps):
            started_s = monotonic()
            if deadline_s is not None and started_s >= deadline_s:
                break
            mark(step, started_s)
            step_fn()
            finished_s = monotonic()
            if step >= next_reading:
                phase = "warmup" if step < warmup_steps else "measure"
                write_line(self._reading_row(step, phase, started_s, finished_s), finished_s)
                paused_s = self._collect_if_due(step, finished_s)
                if paused_s and deadline_s is not None:
                    deadline_s += paused_s  # --duration is loop time: the collection is the profiler's own
                reading_end_s = monotonic()
                self.latency.after_reading(step, started_s, reading_end_s)
                steps_since = step - last_reading_step
                loop_s = finished_s - last_reading_end_s
                next_reading = self.schedule.next_step(step, self.reading_cost_s, loop_s, steps_since)
                if stop_requested is not None and loop_s > 0:
                    stop_check_every = max(1, math.floor(STOP_CHECK_PERIOD_S * steps_since / loop_s))
                last_reading_end_s, last_reading_step = reading_end_s, step
            else:
                record_latency(step, started_s, finished_s)
            if step >= next_stop_check:
                if stop_requested is not None and stop_requested():
                    # The parent judged the verdict settled (--until-decided): end as if this were the last step.
                    self.stopped_early = True
                    return step + 1
                next_stop_check = step + stop_check_every
        else:
            step = self.total_steps
        return step

    def close(self) -> None:
        self.latency.close(self.step, time.monotonic())
        self.writer.close()
        self.collections.close()
        self.signals.memory.close()
        self.signals.reference.close()
        if self.stop_flag is not None:
            self.stop_flag.close()
