"""A settled verdict is the final verdict, on real runs: every look of kept --exact pattern runs is replayed (with the
one-minute throttle off, as if each step were slower) and no look may settle on another verdict than the full run's.

The runs (tests/fixtures/settle_runs, from benchmarks/verdict_stability.py, session 29) include the three whose looks
settled early under earlier rules: model.predict() in a loop settled `plateau` at 517 of 3000 iterations (its full run
is a leak); a Keras clone per call settled `leak` at 4184 and at 4811 of 8000 (its full runs are plateaus)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import REPO_ROOT
from leakhunt import rundir
from leakhunt.analysis import settle
from leakhunt.analysis.settle_replay import replayed_settle

RUNS = sorted((REPO_ROOT / "tests" / "fixtures" / "settle_runs").iterdir())


def _readings(run: Path, scratch: Path) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The run's readings, read as the parent reads a strategy folder."""
    unpacked = scratch / rundir.ITERATIONS_FILE
    unpacked.write_bytes(gzip.decompress((run / "iterations.csv.gz").read_bytes()))
    iterations = rundir.read_csv_tolerant(unpacked, rundir.ITERATION_COLUMNS)
    collections = rundir.read_csv_tolerant(run / "collections.csv", rundir.COLLECTION_COLUMNS)
    warmup_steps = int(json.loads((run / "task.json").read_text()).get("warmup_steps", 0))
    return iterations, collections, warmup_steps


@pytest.mark.parametrize("run", RUNS, ids=[run.name for run in RUNS])
def test_no_replayed_look_settles_on_another_verdict_than_the_full_run(run, monkeypatch, tmp_path):
    final = json.loads((run / "final.json").read_text())
    iterations, collections, warmup_steps = _readings(run, tmp_path)
    # The full run's verdict, with today's rules, is still the one it reported.
    full = settle._judge(iterations, collections, warmup_steps, settle.CONFIDENCE_LEVEL)[2]
    assert full.verdict == final["verdict"], full.reason
    monkeypatch.setattr(settle, "MIN_TIME_SAVED_S", 0.0)
    settled, at = replayed_settle(iterations, collections, warmup_steps, final["max_iterations"])
    assert settled in (None, final["verdict"]), f"settled {settled} at {at}, the full run is {final['verdict']}"
