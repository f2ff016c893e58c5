"""A soak of a no-op step (millions of steps a second) writes a bounded run folder: a row per step only for the
first steps and the reading steps, latency blocks for the rest; a SIGKILL keeps every block written before it
(real child processes)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import FAST_STEPS, run_cli
from leakhunt import rundir
from leakhunt.child.latency import EXACT_STEPS
from leakhunt.rundir.latency_blocks import LATENCY_BLOCKS_FILE, read_latency_blocks
from leakhunt.sampling.schedule import READINGS_UNCAPPED

# CI time: this module runs with -m slow (README).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "run"
    result = run_cli("soak", "--workload", f"{FAST_STEPS}:noop", "--workload", f"{FAST_STEPS}:sigkill_after_2s",
                     "--iterations", "1000000000000", "--duration", "3s", "--exact", "--out", str(out),
                     "--no-progress")
    summary = json.loads((out / "summary.json").read_text())
    folders = {json.loads((folder / "strategy.json").read_text())["name"]: folder
               for folder in (out / "strategies").iterdir()}
    return result, {entry["name"]: entry for entry in summary["strategies"]}, folders


def recorded(folder):
    rows = pd.read_csv(folder / rundir.ITERATIONS_FILE)
    blocks = read_latency_blocks(folder / LATENCY_BLOCKS_FILE)
    return rows, blocks


def test_a_no_op_step_gets_rows_for_the_first_steps_and_readings_only_and_every_step_counted(long_run):
    result, entries, folders = long_run
    entry, folder = entries["fast_steps:noop"], folders["fast_steps:noop"]
    rows, blocks = recorded(folder)
    status = json.loads((folder / "status.json").read_text())
    assert status["steps_completed"] > 20 * EXACT_STEPS  # a fast loop: far more steps than rows
    assert len(rows) <= EXACT_STEPS + READINGS_UNCAPPED + 100
    assert len(blocks) >= 2 and blocks.steps.sum() + len(rows) == status["steps_completed"]
    assert entry["verdict"] == "flat", entry["verdict_reason"]
    p50 = entry["latency_ms"]["p50"]
    assert 0 < p50 < 0.05
    # The terminal says "p50 412 ns" (or us on a very slow machine), never "p50 0 ms".
    line = next(line for line in result.stdout.splitlines() if "fast_steps:noop:" in line)
    assert " ns," in line or " us," in line, line


def test_a_sigkilled_child_keeps_every_block_written_before_the_kill(long_run):
    _, entries, folders = long_run
    entry, folder = entries["fast_steps:sigkill_after_2s"], folders["fast_steps:sigkill_after_2s"]
    assert entry["outcome"] == "crashed"
    rows, blocks = recorded(folder)
    status = json.loads((folder / "status.json").read_text())
    # Blocks are written and flushed every ~second: at most the open block (and the unbinned steps) is lost.
    assert len(blocks) >= 1
    assert blocks.steps.sum() + len(rows) >= 0.3 * status["steps_completed"]
    assert entry["latency_ms"]["p50"] is not None
