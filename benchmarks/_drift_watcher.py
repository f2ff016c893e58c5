"""The hogs of one latency_drift run: started at the child's first measured step (a changing load) or before the
child (constant), held until its loop ends (benchmarks/latency_drift.py)."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _drift_plans import WARMUP_STEPS, WATCH_POLL_S, Plan

if TYPE_CHECKING:
    from leakhunt.rundir.progress_file import ProgressFile


class HogWatcher(threading.Thread):
    """Starts `cpu_hogs(count, mode, schedule_s)` at the child's first measured step (at once for
    `constant`) and stops them when the child's loop has ended (all steps, or its time limit) or `done`.

    schedule_s: for a time-cut run, what is left of the loop's time limit at the first measured step (the
    limit counts from the first warm-up step, which this watcher sees in the progress file); otherwise the
    plan's expected loop time."""

    def __init__(self, out_dir: Path, count: int, mode: str, plan: Plan):
        super().__init__(name=f"hog-watcher-{mode}", daemon=True)
        self.out_dir, self.count, self.mode, self.plan = out_dir, count, mode, plan
        self.done = threading.Event()
        self.started_hogs = threading.Event()
        self.info: dict[str, Any] = {}
        self._progress: ProgressFile | None = None
        # Start of the earliest step seen: the loop's start, to a poll period (or a few fast warm-up steps).
        self.loop_start_s: float | None = None

    def _read_progress(self) -> tuple[int, float] | None:
        from leakhunt.rundir.progress_file import PROGRESS_FILE, ProgressFile

        if self._progress is None:
            for path in sorted((self.out_dir / "strategies").glob(f"*/{PROGRESS_FILE}")):
                if path.stat().st_size >= 16:
                    self._progress = ProgressFile(path)
        if self._progress is None:
            return None
        steps_done, step_start_s = self._progress.read()
        if steps_done >= 0 and self.loop_start_s is None:
            self.loop_start_s = step_start_s
        return steps_done, step_start_s

    def _wait(self, predicate) -> tuple[int, float] | None:
        """Poll the child's progress until predicate(steps_done) holds; None if the soak ended first."""
        while not self.done.is_set():
            found = self._read_progress()
            if found is not None and predicate(found[0]):
                return found
            time.sleep(WATCH_POLL_S)
        return None

    def run(self) -> None:
        from hog import cpu_hogs  # benchmarks/hog.py

        total_steps = WARMUP_STEPS + self.plan.iterations
        try:
            measure_start_s = None
            if self.mode != "constant":
                # A changing load is aligned with the measured iterations: its clock starts at the first one.
                found = self._wait(lambda steps: steps >= WARMUP_STEPS)
                if found is None:
                    return
                measure_start_s = found[1]
            schedule_s = self.plan.hog_duration_s
            if self.plan.time_cut and measure_start_s is not None:
                loop_start_s = self.loop_start_s if self.loop_start_s is not None else measure_start_s
                schedule_s = max(1.0, loop_start_s + self.plan.duration_s - measure_start_s)
                self.info["warmup_s"] = round(measure_start_s - loop_start_s, 2)
            self.info["hog_schedule_s"] = round(schedule_s, 2)
            with cpu_hogs(self.count, self.mode, schedule_s) as hogs:
                self.info["hogs_started_monotonic"] = hogs.started_monotonic
                self.started_hogs.set()  # soak_one starts a constant-load soak only after this
                if measure_start_s is not None:
                    # Spawning the hogs takes ~0.1-0.5 s; this is how far into the loop the schedule began.
                    self.info["hog_schedule_delay_s"] = round(hogs.started_monotonic - measure_start_s, 3)
                else:
                    found = self._wait(lambda steps: steps >= WARMUP_STEPS)
                    measure_start_s = time.monotonic() if found is None else found[1]
                # Hold the load until the child's loop ends: all steps done, or its time limit (counted from
                # the loop's start, warm-up included, so from the first measured step it is at most that).
                # The report building after it need not run under load.
                loop_start_s = self.loop_start_s if self.loop_start_s is not None else measure_start_s
                loop_end_s = loop_start_s + self.plan.duration_s + 0.5
                self._wait(lambda steps: steps >= total_steps or time.monotonic() >= loop_end_s)
        except Exception as error:  # noqa: BLE001 - recorded on the run; the soak itself goes on
            self.info["hog_error"] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            if self._progress is not None:
                self._progress.close()
