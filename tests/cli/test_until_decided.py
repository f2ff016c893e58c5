"""--until-decided: each strategy stops once its verdict is settled (real child processes, no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from helpers import FAST_STEPS
from leakhunt import runner
from leakhunt.analysis.settle import MIN_ITERATIONS_BEFORE_STOP
from leakhunt.rundir.config import RunConfig, StrategySpec

# 110 s of 1 ms steps if nothing stopped them: a run stops early only where that saves a minute or more
# (analysis/settle.MIN_TIME_SAVED_S); the settled ones stop after a few seconds.
MAX_ITERATIONS = 100_000


@pytest.fixture(scope="module")
def settled_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("settle") / "run"
    specs = tuple(StrategySpec(name, f"{FAST_STEPS}:{name}") for name in ("paced_leak_16k", "paced_flat",
                                                                            "raise_at_300"))
    # No attribution pass (tests/cli/test_attribution.py soaks until decided with one): these read when each stopped.
    runner.run(RunConfig(strategies=specs, out_dir=out, iterations=MAX_ITERATIONS, warmup_steps=10,
                         show_progress=False, until_decided=True, attribute="off"))
    summary = json.loads((out / "summary.json").read_text())
    return out, {entry["name"]: entry for entry in summary["strategies"]}


def test_a_strong_leak_stops_early_with_leak(settled_run):
    entry = settled_run[1]["paced_leak_16k"]
    assert entry["verdict"] == "leak", entry["verdict_reason"]
    assert entry["stopped_early"] is True
    # How much earlier depends on the machine's load (looks wait for flushed readings); never the maximum.
    assert MIN_ITERATIONS_BEFORE_STOP <= entry["iterations_completed"] < MAX_ITERATIONS
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


def test_the_child_stops_within_milliseconds_of_the_decision(settled_run):
    # The stop flag is read every step (or every ~1 ms of steps): a 1 ms step stops within a step or two, plus
    # the scheduler's delay on a loaded machine.
    for name in ("paced_leak_16k", "paced_flat"):
        entry = settled_run[1][name]
        assert entry["stop_delay_ms"] is not None and 0 <= entry["stop_delay_ms"] < 250, entry["stop_delay_ms"]
        assert entry["verdict_covers"].startswith(f"iterations 0..{entry['settled_at_iteration'] - 1}")
