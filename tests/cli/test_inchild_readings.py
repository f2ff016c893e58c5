"""The child's iteration-aligned readings decide verdicts at any step speed (real child processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import FAST_STEPS
from leakhunt import runner
from leakhunt.rundir.config import RunConfig, StrategySpec


def soak(out: Path, functions: list[str], iterations: int) -> dict:
    specs = tuple(StrategySpec(name, f"{FAST_STEPS}:{name}") for name in functions)
    # No attribution pass (tests/cli/test_attribution.py has its own run): these tests read the soak's readings.
    runner.run(RunConfig(strategies=specs, out_dir=out, iterations=iterations, warmup_steps=10,
                         show_progress=False, until_decided=False, attribute="off"))
    summary = json.loads((out / "summary.json").read_text())
    return {entry["name"]: entry for entry in summary["strategies"]}


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fast") / "run"
    return out, soak(out, ["keep_4k", "native_256", "numpy_flat", "bounded_cache"], 2000)


def test_sub_microsecond_4k_leak_is_a_leak_within_20_percent(fast_run):
    entry = fast_run[1]["keep_4k"]
    assert entry["verdict"] == "leak", entry["verdict_reason"]
    assert entry["rss_slope_bytes_per_iter"] == pytest.approx(4096, rel=0.20)
    low, high = entry["rss_slope_ci95_bytes_per_iter"]
    assert low <= entry["rss_slope_bytes_per_iter"] <= high


def test_native_256_bytes_per_iteration_is_found_through_the_heap(fast_run):
    entry = fast_run[1]["native_256"]
    assert entry["verdict"] == "leak", entry["verdict_reason"]
    assert entry["deciding_series"] == "heap"
    # malloc(256) takes a 272-byte chunk: the heap counts what the process really holds.
    assert entry["heap_slope_bytes_per_iter"] == pytest.approx(256, rel=0.20)


def test_flat_sub_millisecond_numpy_step_is_flat(fast_run):
    entry = fast_run[1]["numpy_flat"]
    assert entry["verdict"] == "flat", entry["verdict_reason"]


def test_bounded_cache_with_fast_steps_is_not_a_leak(fast_run):
    entry = fast_run[1]["bounded_cache"]
    assert entry["verdict"] == "plateau", entry["verdict_reason"]


def test_readings_are_iteration_aligned_and_within_budget(fast_run):
    out, _ = fast_run
    folder = next((out / "strategies").glob("*-keep_4k"))
    iterations = pd.read_csv(folder / "iterations.csv")
    read = iterations.dropna(subset=["rss_bytes"])
    # Enough readings for a verdict however fast the step, and never one per step for a sub-us step.
    assert 200 <= len(read) < len(iterations)
    assert read["heap_bytes"].notna().all() and read["py_blocks"].notna().all()
    child = json.loads((folder / "child.json").read_text())
    assert child["unavailable"] == {}
