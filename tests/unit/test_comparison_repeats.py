"""`leakhunt compare` with several runs per side (a folder of run folders): the process-to-process spread is
measured, not assumed. Synthetic run folders (tests/helpers/compare_runs.py); each run's process is given
its own speed, as two processes of the same code differ on a shared host."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from helpers.compare_runs import write_run, write_strategy
from leakhunt.cli.app import app
from leakhunt.errors import NotARunFolderError
from leakhunt.report.compare import compare_runs
from leakhunt.rundir import runs_of_side

# Each process's own speed (a run's whole step is this much slower): up to ~20% apart, as measured here.
SPEEDS = (0.92, 1.0, 1.08, 0.97, 1.04)


def side(root: Path, speeds: tuple[float, ...], seed: int, factor: float = 1.0, **strategy) -> Path:
    """A folder of run folders of one code: one run per speed, its steps `factor` times the base work."""
    for index, speed in enumerate(speeds):
        run = write_run(root / f"run{index + 1}")
        write_strategy(run, seed=seed + index, work_ms=lambda x, s=speed: (2.0 * s * factor) + 0 * x,
                       **{"done": 800, **strategy})
    return root


def row_of(tmp_path: Path, side_a: Path, side_b: Path) -> dict:
    comparison = compare_runs(side_a, side_b, out_dir=tmp_path / "out", formats=("md", "html", "json"))
    (row,) = comparison["strategies"]
    return row


def test_a_folder_of_runs_is_one_side_and_a_folder_without_any_is_a_clear_error(tmp_path):
    folder = side(tmp_path / "a", SPEEDS[:2], seed=1)
    assert [path.name for path in runs_of_side(folder)] == ["run1", "run2"]
    assert runs_of_side(folder / "run1") == [folder / "run1"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotARunFolderError, match="nor a folder of run folders"):
        runs_of_side(tmp_path / "empty")
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "empty"), str(folder)])
    assert result.exit_code != 0 and "nor a folder of run folders" in result.output
    assert "Traceback" not in result.output


def test_the_same_code_in_processes_that_differ_is_not_a_regression(tmp_path):
    # GIVEN the same code, 3 runs per side, the slowest B process 17% slower than the fastest A process
    side_a = side(tmp_path / "a", (0.92, 1.0, 1.03), seed=1)
    side_b = side(tmp_path / "b", (1.08, 0.97, 1.02), seed=11)
    # (one run per side, those two differ by ~17% net of the machine: too little for one run to call...)
    single = compare_runs(side_a / "run1", side_b / "run1", out_dir=tmp_path / "single")["strategies"][0]
    assert single["latency_outcome"] == "unclear", single["latency_in_words"]
    assert single["latency_net_change"] > 0.12  # (...though past the one-run machine tolerance)
    # THEN with the runs as sides, nothing differs
    row = row_of(tmp_path, side_a, side_b)
    assert row["latency_outcome"] in ("same", "unclear"), row["latency_in_words"]
    assert row["memory_outcome"] == "same", row["memory_in_words"]
    assert "3 runs of A, 3 of B" in row["latency_in_words"]
    assert row["runs_a"] == ["run1", "run2", "run3"]
    markdown = (tmp_path / "out" / "compare.md").read_text()
    assert "a (3 runs)" in markdown and "Runs: A: run1, run2, run3" in markdown


def test_a_20_percent_slower_step_is_found_across_differing_processes(tmp_path):
    # GIVEN B's code needs 20% more work, each process with its own speed, 5 runs per side
    row = row_of(tmp_path, side(tmp_path / "a", SPEEDS, seed=1),
                 side(tmp_path / "b", SPEEDS[::-1], seed=11, factor=1.2))
    # THEN B is slower by about 20%, the interval from the spread between runs
    assert row["latency_outcome"] == "slower", row["latency_in_words"]
    assert 0.12 < row["latency_net_change"] < 0.28
    assert row["latency_in_words"].startswith("B is slower by")
    assert "5 runs of A, 5 of B" in row["latency_in_words"]


def test_processes_that_spread_too_far_to_rule_out_a_change_are_unclear(tmp_path):
    # GIVEN the same code, 2 runs per side, each side's two processes 40% apart
    row = row_of(tmp_path, side(tmp_path / "a", (0.8, 1.2), seed=1), side(tmp_path / "b", (1.2, 0.8), seed=11))
    # THEN compare does not claim "no change": it says more runs would tell
    assert row["latency_outcome"] == "unclear", row["latency_in_words"]
    assert "more runs per side would tell" in row["latency_in_words"]


def test_one_starved_run_makes_the_sides_not_comparable_and_is_named(tmp_path):
    side_a = side(tmp_path / "a", SPEEDS[:3], seed=1)
    side_b = side(tmp_path / "b", SPEEDS[:2], seed=11)
    starved = write_run(side_b / "run3")
    write_strategy(starved, seed=30, done=800, cpu_share=0.5)
    row = row_of(tmp_path, side_a, side_b)
    assert row["latency_outcome"] == "not comparable"
    assert row["latency_not_comparable_reason"].startswith("run3 (B) against run1 (A)")
    assert "50% of a CPU" in row["latency_not_comparable_reason"]


def test_a_leak_differs_only_when_every_pairing_of_runs_says_so(tmp_path):
    leak = 64 * 1024
    side_a = side(tmp_path / "a", SPEEDS[:3], seed=1)
    added = row_of(tmp_path / "added", side_a, side(tmp_path / "leaky", SPEEDS[:3], seed=11,
                                                    leak_bytes_per_iter=leak))
    assert added["memory_outcome"] == "more"
    assert "grows faster in B in all 9 pairings of runs" in added["memory_in_words"]
    # GIVEN one B run of three leaking (a different code in one run), the others flat
    mixed = side(tmp_path / "mixed", SPEEDS[:2], seed=21)
    write_strategy(write_run(mixed / "run3"), seed=40, done=800, leak_bytes_per_iter=leak)
    row = row_of(tmp_path / "m", side_a, mixed)
    assert row["memory_outcome"] == "same", row["memory_in_words"]
    assert "only 3 of 9 pairings of runs differed" in row["memory_in_words"]


def test_the_span_is_common_to_every_run(tmp_path):
    side_a = side(tmp_path / "a", SPEEDS[:2], seed=1)
    side_b = side(tmp_path / "b", SPEEDS[:1], seed=11)
    write_strategy(write_run(side_b / "run2"), seed=12, done=300)
    row = row_of(tmp_path, side_a, side_b)
    assert row["span"]["last_iteration"] == 299
    assert "end of the shortest run (B: run2)" in row["span_words"]
    assert "iterations_b" in row and row["iterations_b"] == 300


def test_one_busier_run_does_not_widen_the_tolerance_of_the_sides(tmp_path):
    # GIVEN B's code 17% slower, 5 runs per side, one B run's step thread waiting for a CPU 12% of the time
    # (corrected, and within correction; every other run never waited)
    side_a = side(tmp_path / "a", SPEEDS, seed=1)
    side_b = side(tmp_path / "b", SPEEDS[:4], seed=11, factor=1.17)
    write_strategy(write_run(side_b / "run5"), seed=20, done=800, cpu_share=0.88,
                   work_ms=lambda x: np.full(x.shape, 2.0 * SPEEDS[4] * 1.17))
    row = row_of(tmp_path, side_a, side_b)
    # THEN the tolerance follows the sides' median conditions (8%), not that one pair's (20%): B is slower
    assert row["latency_outcome"] == "slower", row["latency_in_words"]
    assert row["latency_views"][0]["tolerance"] < 0.1
