"""--until-decided: each strategy stops once its verdict is settled (real child processes, no TensorFlow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leakhunt import runner
from leakhunt.analysis.settle import MIN_ITERATIONS_BEFORE_STOP, Look, SettleTracker
from leakhunt.config import RunConfig, StrategySpec

FAST_STEPS = Path(__file__).resolve().parent / "workloads" / "fast_steps.py"
MAX_ITERATIONS = 8_000  # 9 s of 1 ms steps if nothing stopped them


@pytest.fixture(scope="module")
def settled_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("settle") / "run"
    specs = tuple(StrategySpec(name, f"{FAST_STEPS}:{name}") for name in ("paced_leak_16k", "paced_flat",
                                                                            "raise_at_300"))
    runner.run(RunConfig(strategies=specs, out_dir=out, iterations=MAX_ITERATIONS, warmup_steps=10,
                         show_progress=False, until_decided=True))
    summary = json.loads((out / "summary.json").read_text())
    return out, {entry["name"]: entry for entry in summary["strategies"]}


def test_a_strong_leak_stops_early_with_leak(settled_run):
    entry = settled_run[1]["paced_leak_16k"]
    assert entry["verdict"] == "leak", entry["verdict_reason"]
    assert entry["stopped_early"] is True
    assert MIN_ITERATIONS_BEFORE_STOP <= entry["iterations_completed"] < MAX_ITERATIONS / 2
    assert entry["stop_reason"].startswith("settled after ") and "leak" in entry["stop_reason"]
    assert entry["verdict_covers"].endswith("assuming the behaviour seen continues")
    assert entry["rss_slope_bytes_per_iter"] == pytest.approx(16 * 1024, rel=0.2)


def test_a_flat_workload_stops_early_with_flat_after_the_minimum(settled_run):
    entry = settled_run[1]["paced_flat"]
    assert entry["verdict"] == "flat", entry["verdict_reason"]
    assert entry["stopped_early"] is True
    assert entry["iterations_completed"] >= MIN_ITERATIONS_BEFORE_STOP
    assert "flat" in entry["stop_reason"]


def test_a_workload_that_raises_is_reported_as_before(settled_run):
    entry = settled_run[1]["raise_at_300"]
    assert entry["verdict"] == "failed"
    assert "boom at 300" in entry["error_text"]
    assert entry["stopped_early"] is False


def test_the_terminal_says_where_each_strategy_stopped(settled_run):
    lines = runner.summary_lines(json.loads((settled_run[0] / "summary.json").read_text()))
    assert any("stopped at" in line and "settled" in line for line in lines)


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
