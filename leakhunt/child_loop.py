"""The child's measured loop: one clocked step and one CSV line per step, the child's own readings every K
steps (K from sampling/schedule.py), and a stop when the parent asks for one (--until-decided)."""

from __future__ import annotations

import time
from typing import Any

from leakhunt import rundir
from leakhunt.child_signals import SignalReader
from leakhunt.config import ChildTask
from leakhunt.progress_file import STOP_FILE, ProgressFile, StopFlag
from leakhunt.sampling.schedule import ReadingSchedule


class StepLoop:
    """The measured loop: one clocked step, one CSV line; every K steps the child's own readings."""

    def __init__(self, task: ChildTask, workload: Any, progress: ProgressFile):
        self.task = task
        self.workload = workload
        self.progress = progress
        self.signals = SignalReader(workload)
        self.total_steps = task.warmup_steps + task.iterations
        self.schedule = ReadingSchedule(self.total_steps, task.signal_every_steps)
        self.writer = rundir.CsvAppender(task.strategy_dir / rundir.ITERATIONS_FILE, rundir.ITERATION_COLUMNS)
        stop_path = task.strategy_dir / STOP_FILE
        self.stop_flag = StopFlag(stop_path) if stop_path.exists() else None
        self.stopped_early = False
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
        reference, reference_memory, runqueue_wait = signals.reference_cells(finished_s)
        return (f"{step},{phase},{started_s:.6f},{(finished_s - started_s) * 1e3:.4f},"
                f"{tf_cells},{expensive_cells},{memory_cells},{reference},{time.process_time():.6f},"
                f"{reference_memory},{runqueue_wait}\n")

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
        mark(self.step, monotonic())

    def _loop(self, step_fn, mark, write_line, warmup_steps: int, deadline_s: float | None) -> int:
        """The hot loop; returns how many steps were done. Locals only per step: no attribute writes."""
        monotonic = time.monotonic
        next_reading = 0
        last_reading_end_s = monotonic()
        last_reading_step = -1
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
                reading_end_s = monotonic()
                next_reading = self.schedule.next_step(
                    step, self.reading_cost_s, finished_s - last_reading_end_s, step - last_reading_step)
                last_reading_end_s, last_reading_step = reading_end_s, step
                if self.stop_flag is not None and self.stop_flag.stop_requested():
                    # The parent judged the verdict settled (--until-decided): end as if this were the last.
                    self.stopped_early = True
                    return step + 1
            else:
                write_line(
                    f"{step},{'warmup' if step < warmup_steps else 'measure'},{started_s:.6f},"
                    f"{(finished_s - started_s) * 1e3:.4f},,,,,,,,,,,,\n",
                    finished_s,
                )
        else:
            step = self.total_steps
        return step

    def close(self) -> None:
        self.writer.close()
        self.signals.memory.close()
        self.signals.reference.close()
        if self.stop_flag is not None:
            self.stop_flag.close()
