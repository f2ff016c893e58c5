"""SettleTracker (--until-decided): when a verdict counts as settled; pure, no child process."""

from __future__ import annotations

from leakhunt.analysis.settle import MIN_ITERATIONS_BEFORE_STOP, Look, SettleTracker


def _look(iterations, settles, slope=1000.0):
    return Look(iterations, "leak" if settles == "leak" else "flat", "linear", "rss", settles, "why", slope)


def test_a_verdict_must_hold_at_two_looks_in_a_row():
    tracker = SettleTracker(max_iterations=5000)
    assert not tracker.due(MIN_ITERATIONS_BEFORE_STOP - 1)
    assert tracker.record(None, 100) is None  # before the minimum run length: no look at all
    assert tracker.record(_look(130, "leak"), 130) is None
    assert tracker.record(_look(160, "flat"), 160) is None  # a different verdict resets
    assert tracker.record(_look(200, None), 200) is None
    assert tracker.record(_look(250, "flat"), 250) is None
    reason = tracker.record(_look(310, "flat"), 310)
    assert reason and reason.startswith("settled after 310 of 5000")


def test_a_leak_whose_rate_falls_between_looks_is_not_settled():
    # A warm-up still settling looks like a leak at first, but its rate falls as the window grows.
    tracker = SettleTracker(max_iterations=5000)
    assert tracker.record(_look(130, "leak", slope=900.0), 130) is None
    assert tracker.record(_look(170, "leak", slope=500.0), 170) is None
    assert tracker.record(_look(220, "leak", slope=480.0), 220) is not None  # steady now
