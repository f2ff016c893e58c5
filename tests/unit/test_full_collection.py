"""When the child forces a full collection (sampling/full_collection.py): pure schedule logic, real gc.collect()."""

from __future__ import annotations

from leakhunt import rundir
from leakhunt.sampling import full_collection
from leakhunt.sampling.full_collection import FullCollector


def _collector(iterations=1000, warmup=10, duration_s=None):
    return FullCollector(lambda: (None, 100, 200, 300), iterations, warmup, duration_s)


def _reasons(collector, steps, step_s, requests=lambda step: 0):
    """Drive due()/collect() as the loop does: one reading per step, `step_s` seconds per step."""
    reasons = []
    for step in steps:
        reason = collector.due(step, 100.0 + step * step_s + collector.total_s, requests(step))
        if reason is not None:
            line, _ = collector.collect(step, reason)
            assert line.count(",") == len(rundir.COLLECTION_COLUMNS) - 1
            reasons.append((step, reason))
    return reasons


def test_a_baseline_at_the_first_measured_reading_then_milestones_through_the_run(monkeypatch):
    # The schedule, not the budget: real collections in a loaded test process can take long enough that the
    # budget would skip a milestone (that path has its own test below).
    monkeypatch.setattr(full_collection, "COLLECTION_ALLOWANCE_S", 1e6)
    reasons = _reasons(_collector(), range(0, 1010), step_s=0.05)
    assert reasons[0] == (10, "baseline")
    milestones = [step for step, reason in reasons if reason == "milestone"]
    assert milestones == [209, 409, 609, 809]  # 20/40/60/80% of 1000 measured iterations


def test_milestones_the_budget_cannot_pay_are_recorded_as_skipped(monkeypatch):
    # A run of 10 ms in all cannot pay for collections of ~1 s each beyond the fixed allowance.
    monkeypatch.setattr(full_collection, "COLLECTION_ALLOWANCE_S", 0.0)
    collector = _collector()
    collector._cost_s = 1.0  # what a collection costs in a big TensorFlow process
    reasons = _reasons(collector, range(0, 1010), step_s=1e-5)
    assert [reason for _, reason in reasons].count("skipped-for-budget") == 4


def test_requests_are_served_once_each_and_only_when_affordable(monkeypatch):
    monkeypatch.setattr(full_collection, "MILESTONE_FRACTIONS", ())
    monkeypatch.setattr(full_collection, "PERIODIC_COLLECTION_BUDGET", 0.0)
    collector = _collector(iterations=100_000)
    reasons = _reasons(collector, range(0, 200), step_s=0.01, requests=lambda step: 1 if step >= 50 else 0)
    assert [reason for _, reason in reasons] == ["baseline", "requested"]
    assert reasons[1][0] == 50  # served at the first reading after the request, not again
