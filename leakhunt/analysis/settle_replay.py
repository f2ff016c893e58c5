"""Replaying `--until-decided` on finished readings: the looks the parent would have taken (SettleTracker's schedule,
the parent's time throttle aside), each on the rows and forced collections the child had written by then, until
one stops the run. benchmarks/settle_replay.py prints them; tests/unit/test_settle_replay_runs.py checks that no
replayed look of a kept run settles on another verdict than its full run's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from leakhunt.analysis.settle import Look, SettleTracker, take_look


@dataclass(frozen=True)
class ReplayedLook:
    measured_iterations: int
    rows: pd.DataFrame  # the readings up to this look
    look: Look | None  # None: too early to judge
    stop: str | None  # the stop reason, on the look that stops the run


def replay_looks(iterations: pd.DataFrame, collections: pd.DataFrame | None, warmup_steps: int,
                 max_iterations: int) -> Iterator[ReplayedLook]:
    """The looks in order, until one stops the run or the rows run out. The forced collections are the ones the child
    had run by each look: an exact run's milestones and periodic ones (requested ones only where the replayed run
    was itself --until-decided)."""
    if iterations.empty:
        return
    measured_available = int(iterations["step"].max()) + 1 - warmup_steps
    tracker = SettleTracker(max_iterations)
    measured = tracker.next_look_iterations
    while measured <= min(measured_available, max_iterations):
        rows = iterations[iterations["step"] < warmup_steps + measured]
        collections_upto = None if collections is None else collections[collections["step"] < warmup_steps + measured]
        look = take_look(rows, warmup_steps, max_iterations, collections_upto,
                         tracker.looks[-1] if tracker.looks else None)
        stop = tracker.record(look, measured)
        yield ReplayedLook(measured, rows, look, stop)
        if stop:
            return
        measured = tracker.next_look_iterations


def replayed_settle(iterations: pd.DataFrame, collections: pd.DataFrame | None, warmup_steps: int,
                    max_iterations: int) -> tuple[str | None, int | None]:
    """(the verdict the looks settle on, at how many measured iterations), or (None, None) where none settles."""
    for replayed in replay_looks(iterations, collections, warmup_steps, max_iterations):
        if replayed.stop and replayed.look is not None:
            return replayed.look.settles, replayed.look.measured_iterations
    return None, None
