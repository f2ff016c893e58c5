"""`leakhunt compare` on synthetic run folders whose machine is modelled (tests/helpers/compare_runs.py):
the common span, a busy machine that is not a regression, "not comparable", and planted changes found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.compare_runs import write_pair
from leakhunt.analysis.latency_change import median_interval
from leakhunt.analysis.machine_difference import LATENCY_MIN_CHANGE
from leakhunt.analysis.run_differences import run_differences
from leakhunt.report.compare import compare_runs
from leakhunt.rundir.records import RunRecord


def compare(tmp_path: Path, a: dict, b: dict, run_a: dict | None = None, run_b: dict | None = None) -> dict:
    folder_a, folder_b = write_pair(tmp_path, a, b, run_a, run_b)
    comparison = compare_runs(folder_a, folder_b, out_dir=tmp_path / "out", formats=("md", "html", "json"))
    return comparison


def growing(x: np.ndarray) -> np.ndarray:
    """A step that gets slower along the run (an op added per call): 2 ms, +1 ms per 100 iterations."""
    return 2.0 + x / 100


def test_runs_that_stopped_at_different_iterations_are_compared_over_the_shorter_one(tmp_path):
    # GIVEN the same code whose latency and memory grow with the iteration, run A stopped at 300, B at 600
    leak = 64 * 1024
    comparison = compare(tmp_path, dict(done=300, work_ms=growing, leak_bytes_per_iter=leak, seed=1),
                         dict(done=600, work_ms=growing, leak_bytes_per_iter=leak, seed=2))
    (row,) = comparison["strategies"]
    # THEN both are judged over iterations 0-299, and nothing differs
    assert row["span"] == {"first_iteration": 0, "last_iteration": 299}
    assert "to the end of the shorter run (A" in row["span_words"]
    assert row["latency_outcome"] == "same", row["latency_in_words"]
    assert row["memory_outcome"] == "same", row["memory_in_words"]
    # (over their whole runs B's median step is ~1.6x A's: a "regression" the span removes)
    assert abs(row["latency_p50_relative_change"]) < LATENCY_MIN_CHANGE
    markdown = (tmp_path / "out" / "compare.md").read_text()
    assert "iterations 0–299" in markdown


def test_memory_that_grows_then_stops_is_compared_over_the_same_iterations(tmp_path):
    # GIVEN the same code whose RSS grows 64 KiB/iter for 400 iterations, then stays; A ran 350, B 1200
    def climb(x):
        return 64 * 1024 * np.minimum(x, 400)

    comparison = compare(tmp_path, dict(done=350, growth_bytes=climb, seed=1),
                         dict(done=1200, growth_bytes=climb, seed=2))
    (row,) = comparison["strategies"]
    # THEN over iterations 0-349 both climb alike (over its whole run B's slope is a third of A's)
    assert row["memory_outcome"] == "same", row["memory_in_words"]
    assert row["rss_slope_b_bytes_per_iter"] == pytest.approx(64 * 1024, rel=0.05)


def test_a_machine_that_slows_every_cycle_is_not_a_regression(tmp_path):
    # GIVEN the same code, B on a machine whose every cycle is 30% slower (its reference kernels say so)
    comparison = compare(tmp_path, dict(done=800, seed=1), dict(done=800, seed=2, cycle_slowness=1.3))
    (row,) = comparison["strategies"]
    assert row["latency_p50_relative_change"] > 0.25  # the raw median moved...
    assert row["latency_outcome"] == "same", row["latency_in_words"]  # ...the code did not


def test_a_child_that_lost_some_time_slices_is_not_a_regression(tmp_path):
    # GIVEN the same code, B's step thread waiting for a CPU 10% of the time (A: never)
    comparison = compare(tmp_path, dict(done=800, seed=1), dict(done=800, seed=2, cpu_share=0.9))
    (row,) = comparison["strategies"]
    assert row["latency_outcome"] == "same", row["latency_in_words"]


def test_a_starved_child_is_not_comparable(tmp_path):
    # GIVEN the same code, B's child getting half a CPU: its median step doubles on the wall clock
    comparison = compare(tmp_path, dict(done=800, seed=1), dict(done=800, seed=2, cpu_share=0.5))
    (row,) = comparison["strategies"]
    # THEN compare does not call it slower: it says why it cannot compare
    assert row["latency_outcome"] == "not comparable"
    assert "run B's child got 50% of a CPU vs 100% in A" in row["latency_not_comparable_reason"]
    assert "not comparable" in (tmp_path / "out" / "compare.md").read_text()


def test_different_cpus_are_not_comparable(tmp_path):
    comparison = compare(tmp_path, dict(seed=1), dict(seed=2), run_b=dict(cpu="Other CPU"))
    (row,) = comparison["strategies"]
    assert row["latency_outcome"] == "not comparable" and "different CPUs" in row["latency_not_comparable_reason"]
    assert "CPU: Test CPU → Other CPU" in comparison["run_differences"]


def test_what_differs_between_the_runs_heads_the_report(tmp_path):
    compare(tmp_path, dict(seed=1), dict(seed=2), run_a=dict(iterations=500, tensorflow="2.15.0"),
            run_b=dict(iterations=2000, tensorflow="2.16.1", until_decided=False, host_id="host-b"))
    markdown = (tmp_path / "out" / "compare.md").read_text()
    head = markdown.split("| Strategy")[0]
    for text in ("iterations: 500 → 2000", "stopping: until decided → exact", "TensorFlow: 2.15.0 → 2.16.1",
                 "host: host-a → host-b"):
        assert text in head
    assert "The runs differ in:" in (tmp_path / "out" / "compare.html").read_text()


@pytest.mark.parametrize("cycle_slowness", [1.0, 1.2])
def test_a_40_percent_slower_step_is_found_with_one_run_per_side(tmp_path, cycle_slowness):
    # GIVEN B's step needs 40% more work (on the same machine, or on one 20% slower per cycle)
    comparison = compare(tmp_path, dict(done=600, work_ms=growing, seed=1),
                         dict(done=900, work_ms=lambda x: 1.4 * growing(x), seed=2, cycle_slowness=cycle_slowness))
    (row,) = comparison["strategies"]
    # THEN compare says B is slower, by about 40% net of the machine, in words
    assert row["latency_outcome"] == "slower", row["latency_in_words"]
    assert 0.32 < row["latency_net_change"] < 0.48
    assert row["latency_in_words"].startswith("B is slower")
    assert f"{row['latency_net_change']:+.0%} net of the machine" in row["latency_in_words"]


def test_a_20_percent_change_is_left_to_repeats_with_one_run_per_side(tmp_path):
    # GIVEN B's step needs 20% more work: within what two processes of the same code differ by here
    comparison = compare(tmp_path, dict(done=600, work_ms=growing, seed=1),
                         dict(done=900, work_ms=lambda x: 1.2 * growing(x), seed=2))
    (row,) = comparison["strategies"]
    # THEN one run per side does not call it either way, and says how to tell (tests/unit/test_comparison_repeats)
    assert row["latency_outcome"] == "unclear", row["latency_in_words"]
    assert 0.14 < row["latency_net_change"] < 0.26
    assert "within what two processes of the same code differ by" in row["latency_in_words"]
    assert "folder of 3-5 runs" in row["latency_in_words"]


MULTI_THREADED = dict(done=800, cpu_per_wall=1.8)


def test_more_work_on_one_thread_of_a_multi_threaded_step_is_found(tmp_path):
    # GIVEN a step that keeps two threads busy, and B with 40% more work on its step thread alone (its CPU
    # share drops from ~160% to ~140%, its CPU time per iteration rises ~22%), the machine alike in both
    comparison = compare(tmp_path, dict(MULTI_THREADED, seed=1, threads_wait_fraction=0.10),
                         dict(MULTI_THREADED, seed=2, threads_wait_fraction=0.12, step_thread_extra_ms=0.88))
    (row,) = comparison["strategies"]
    # THEN the lower CPU share is not taken for a busier machine: all threads waited alike, B is slower
    assert row["latency_outcome"] == "slower", row["latency_in_words"]
    assert 0.32 < row["latency_net_change"] < 0.48
    assert "not deciding: the step runs on several threads" in row["latency_in_words"]


@pytest.mark.parametrize("fraction_b, outcome", [(0.14, "same"), (0.45, "not comparable")])
def test_a_multi_threaded_child_is_judged_by_all_its_threads_waits(tmp_path, fraction_b, outcome):
    # GIVEN the same multi-threaded step, its threads waiting 10% of their runnable time in A and more in B
    comparison = compare(tmp_path, dict(MULTI_THREADED, seed=1, threads_wait_fraction=0.10),
                         dict(MULTI_THREADED, seed=2, threads_wait_fraction=fraction_b))
    (row,) = comparison["strategies"]
    # THEN a little more waiting is carried by the correction; a crowded child is "not comparable", in words
    assert row["latency_outcome"] == outcome, row["latency_in_words"]
    if outcome == "not comparable":
        assert "its threads waited for a CPU 45% of their runnable time vs 10%" in row["latency_not_comparable_reason"]


def test_a_leak_added_and_a_leak_fixed_are_found(tmp_path):
    leak = dict(done=500, leak_bytes_per_iter=64 * 1024, seed=1)
    flat = dict(done=400, seed=2)
    added = compare(tmp_path / "added", flat, leak)["strategies"][0]
    fixed = compare(tmp_path / "fixed", leak, flat)["strategies"][0]
    assert added["memory_outcome"] == "more" and fixed["memory_outcome"] == "less"
    assert "RSS grows faster in B" in added["memory_in_words"]
    assert "RSS grows slower in B" in fixed["memory_in_words"]
    assert added["latency_outcome"] == "same"


def test_run_differences_name_what_differs():
    a = RunRecord(config={"iterations": 500, "until_decided": True, "warmup_steps": 10},
                  environment={"tensorflow": "2.15.0", "host_id": "aaa"})
    b = RunRecord(config={"iterations": 2000, "until_decided": False, "warmup_steps": 10},
                  environment={"tensorflow": "2.16.1", "host_id": "bbb"})
    assert run_differences(a, b) == ["iterations: 500 → 2000", "stopping: until decided → exact (every iteration)",
                                     "TensorFlow: 2.15.0 → 2.16.1", "host: aaa → bbb"]
    assert run_differences(a, a) == []


def test_median_interval_covers_the_median():
    values = np.random.default_rng(0).normal(10, 1, 400)
    median, low, high = median_interval(values)
    assert low < median < high and high - low < 0.5


@pytest.mark.parametrize("factor_b, outcome", [(0.02, "faster"), (1.5, "unclear")])
def test_a_change_no_machine_explains_is_called_without_a_correction(tmp_path, factor_b, outcome):
    # GIVEN runs too short for the machine-speed reference to be read 3 times in their common span (a fix that
    # took an op-per-call loop from ~80 ms to under 2 ms stops before the kernel is read often enough)
    comparison = compare(tmp_path, dict(done=60, work_ms=lambda x: np.full(x.shape, 80.0), seed=1),
                         dict(done=60, work_ms=lambda x: np.full(x.shape, 80.0 * factor_b), seed=2))
    (row,) = comparison["strategies"]
    # THEN a 50x faster step is called (raw, and says so); a 1.5x one cannot be told from the machine
    assert row["latency_outcome"] == outcome, row["latency_in_words"]
    if outcome == "faster":
        assert row["latency_in_words"].startswith("B is faster by 98% raw (too few machine-speed readings")
    else:
        assert "too few machine-speed readings in the span" in row["latency_in_words"]
