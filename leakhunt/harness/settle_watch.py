"""--until-decided in the parent: look at the child's readings now and then; ask it to stop once settled."""

from __future__ import annotations

import time
from pathlib import Path

from leakhunt import rundir
from leakhunt.analysis.settle import SettleTracker, take_look
from leakhunt.rundir.config import RunConfig
from leakhunt.rundir.progress_file import STOP_FILE, StopFlag

# A look reads the whole iterations.csv: the next one waits this many times as long as the last one took,
# so looks never take more than ~10% of the parent's time (one core's tenth, while the child runs on another).
LOOK_COST_FACTOR = 10


class SettleWatcher:
    def __init__(self, config: RunConfig, strategy_dir: Path):
        self.config = config
        self.iterations_path = strategy_dir / rundir.ITERATIONS_FILE
        self.collections_path = strategy_dir / rundir.COLLECTIONS_FILE
        self.flag = StopFlag(strategy_dir / STOP_FILE, create=True)
        self.tracker = SettleTracker(config.iterations)
        self.stop_reason: str | None = None
        self.settled_at_iteration: int | None = None
        self.stop_requested_s: float | None = None
        self.next_look_s = 0.0

    def check(self, steps_done: int, now_s: float) -> None:
        measured = steps_done - self.config.warmup_steps
        if self.stop_reason or not self.tracker.due(measured) or now_s < self.next_look_s:
            return
        started_s = time.monotonic()
        iterations = rundir.read_csv_tolerant(self.iterations_path, rundir.ITERATION_COLUMNS)
        collections = rundir.read_csv_tolerant(self.collections_path, rundir.COLLECTION_COLUMNS)
        previous = self.tracker.looks[-1] if self.tracker.looks else None
        look = take_look(iterations, self.config.warmup_steps, self.config.iterations, collections, previous,
                         self.config.duration_s)
        self.next_look_s = time.monotonic() + LOOK_COST_FACTOR * (time.monotonic() - started_s)
        self.stop_reason = self.tracker.record(look, measured)
        if self.stop_reason:
            self.flag.request_stop()
            self.stop_requested_s = time.monotonic()
            self.settled_at_iteration = None if look is None else look.measured_iterations
        elif look is not None and look.wants_collection:
            # Growth like a leak: a forced full collection tells the next look whether it survives one.
            self.flag.request_collection()

    def close(self) -> None:
        self.flag.close()
