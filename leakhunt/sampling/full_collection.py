"""Forced full collections in the child: garbage awaiting collection is not a leak.

Objects in reference cycles (a cloned Keras model, a TF1 session's fetch state) are freed only by Python's full
(generation 2) collection, which with TensorFlow loaded may run only every ~1500 calls. Until then the child's
memory grows like a leak. So at chosen reading steps the child runs `gc.collect()` (all generations) and reads its
memory right before and right after: the "after" readings are post-collection points, the live memory at that
iteration. A leak must survive them (analysis/post_collection.py). The C heap in use and Python's live blocks
show what a collection freed; RSS mostly keeps the pages (the allocator reuses them), which
analysis/garbage.py reads as such. (No malloc_trim: returning free pages to the OS would step RSS down at every
forced collection, a shape the workload never has by itself.)

A full collection walks every tracked object: ~0.15-0.4 s with TensorFlow loaded (350k objects), milliseconds
without. So collections run on a time budget: a baseline at the first measured iteration and a final one after
the last step (both outside the measured loop's time), milestones through the run, the ones the parent asks for
before it settles a leak (--until-decided), and periodic ones on a long run. Their time is excluded from the
step timings, from --duration and from the reading schedule. `gc.freeze()` is never called: objects frozen and
dropped later would never be collected, and the profiler would create the leak it reports.
"""

from __future__ import annotations

import gc
import time
from typing import Callable

# Share of the run's wall time that milestone and requested collections may take, measured against the larger
# of the loop's elapsed time and its projected length (iterations at the pace so far, or --duration): a long run
# may spend on confirming a leak early what it saves by stopping.
COLLECTION_TIME_BUDGET = 0.05
# ...or this much in all, whichever is more: a run of a few seconds still gets its milestones (a verdict is worth
# two seconds), and a forced collection with TensorFlow loaded costs ~0.15-0.4 s.
COLLECTION_ALLOWANCE_S = 2.0
# Beyond that, a long soak collects again whenever this share of its elapsed time allows: more post-collection
# points over hours, at the reading budget's own 1%.
PERIODIC_COLLECTION_BUDGET = 0.01
# Where in the planned run an --exact run collects (progress in iterations or in --duration, the larger):
# with the baseline and the final one, at least four inside the run, as docs/verdicts.md promises.
MILESTONE_FRACTIONS = (0.2, 0.4, 0.6, 0.8)

REASON_BASELINE = "baseline"
REASON_MILESTONE = "milestone"
REASON_REQUESTED = "requested"
REASON_PERIODIC = "periodic"
REASON_FINAL = "final"
REASON_SKIPPED = "skipped-for-budget"

# (tf_current, rss, heap, py_blocks) as numbers, None where a reading is unavailable.
MemoryValues = tuple["int | None", "int | None", "int | None", "int | None"]


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def full_collections_so_far() -> int:
    """Full (generation 2) collections since the interpreter started, automatic and forced (~2.6 us)."""
    return int(gc.get_stats()[2]["collections"])


class FullCollector:
    """Decides when the child runs a forced full collection, runs it, and formats its collections.csv row."""

    def __init__(self, read_memory: Callable[[], MemoryValues], planned_iterations: int, warmup_steps: int,
                 duration_s: float | None):
        self._read_memory = read_memory
        self._planned_iterations = max(int(planned_iterations), 1)
        self._warmup_steps = warmup_steps
        self._duration_s = duration_s
        self._measure_started_s: float | None = None
        self._next_milestone = 0
        self._cost_s = 0.0  # the last collection's duration: what the next one will likely cost
        self.spent_s = 0.0  # milestone, requested and periodic collections (the budgeted ones)
        self.total_s = 0.0  # every forced collection: not part of the loop's elapsed time
        self.forced = 0
        self.requests_served = 0
        self.full_collections_at_start = full_collections_so_far()

    def auto_full_collections(self) -> int:
        """Automatic full collections since the baseline collection (forced ones not counted; 0 before it)."""
        if self._measure_started_s is None:
            return 0
        return full_collections_so_far() - self.full_collections_at_start - self.forced

    def _progress(self, measured_iterations: int, elapsed_s: float) -> float:
        progress = measured_iterations / self._planned_iterations
        if self._duration_s:
            progress = max(progress, elapsed_s / self._duration_s)
        return progress

    def _projected_s(self, measured_iterations: int, elapsed_s: float) -> float:
        if measured_iterations <= 0:
            return elapsed_s
        projected = elapsed_s * self._planned_iterations / measured_iterations
        return min(projected, self._duration_s) if self._duration_s else projected

    def due(self, step: int, now_s: float, requests_total: int) -> str | None:
        """The reason to collect after this reading step, or None. Called at reading steps only."""
        if step < self._warmup_steps:
            return None
        if self._measure_started_s is None:
            self._measure_started_s = now_s
            self.full_collections_at_start = full_collections_so_far()
            return REASON_BASELINE
        measured = step + 1 - self._warmup_steps
        elapsed_s = now_s - self._measure_started_s - self.total_s
        budget_s = max(COLLECTION_TIME_BUDGET * max(elapsed_s, self._projected_s(measured, elapsed_s)),
                       COLLECTION_ALLOWANCE_S)
        affordable = self.spent_s + self._cost_s <= budget_s
        progress = self._progress(measured, elapsed_s)
        if self._next_milestone < len(MILESTONE_FRACTIONS) and progress >= MILESTONE_FRACTIONS[self._next_milestone]:
            while (self._next_milestone < len(MILESTONE_FRACTIONS)
                   and progress >= MILESTONE_FRACTIONS[self._next_milestone]):
                self._next_milestone += 1
            return REASON_MILESTONE if affordable else REASON_SKIPPED
        if requests_total > self.requests_served and affordable:
            self.requests_served = requests_total
            return REASON_REQUESTED
        if self.spent_s + self._cost_s <= PERIODIC_COLLECTION_BUDGET * elapsed_s and self.forced > 0:
            return REASON_PERIODIC
        return None

    def collect(self, step: int, reason: str) -> tuple[str, float]:
        """Run one forced full collection (or record a skipped one): (collections.csv line, seconds it took)."""
        started_s = time.monotonic()
        if reason == REASON_SKIPPED:
            return f"{step},{reason},{started_s:.6f},,,{self.auto_full_collections()},,,,,,,,\n", 0.0
        auto = self.auto_full_collections()
        tf_before, rss_before, heap_before, blocks_before = self._read_memory()
        collected = gc.collect()
        duration_s = time.monotonic() - started_s
        tf_after, rss_after, heap_after, blocks_after = self._read_memory()
        self.forced += 1
        self._cost_s = duration_s
        self.total_s += duration_s
        if reason not in (REASON_BASELINE, REASON_FINAL):
            self.spent_s += duration_s
        cells = ",".join(_cell(value) for value in (rss_before, heap_before, blocks_before, tf_before,
                                                       rss_after, heap_after, blocks_after, tf_after))
        return f"{step},{reason},{started_s:.6f},{duration_s:.6f},{collected},{auto},{cells}\n", duration_s
