"""The flagship path, end to end: built-in strategies on the embedded Mask R-CNN (tiny), real children."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import run_cli

ITERATIONS = 6
WARMUP_STEPS = 2


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "run"
    # 6 iterations: each of the tutorial's steps rebuilds its post-processing (seconds each, slower as its graph
    # grows); 8 steps already show the growth, the hint and the slowdown the tests below read.
    result = run_cli("soak", "--strategy", "tutorial,persistent", "--preset", "tiny", "--gpu-memory", "growth",
                     "--iterations", str(ITERATIONS), "--warmup", str(WARMUP_STEPS), "--signal-every", "1",
                     "--out", str(out), "--no-progress", timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    return out, result, {entry["name"]: entry for entry in summary["strategies"]}


def _iterations(out, prefix):
    return pd.read_csv(next((out / "strategies").glob(f"{prefix}-*")) / "iterations.csv")


def test_both_strategies_complete_with_the_preset_named(model_run):
    out, result, by_name = model_run
    assert set(by_name) == {"tutorial[gpu-memory=growth]", "persistent[gpu-memory=growth]"}
    assert all(entry["outcome"] == "completed" and entry["iterations_completed"] == ITERATIONS
               for entry in by_name.values())
    assert "embedded model preset 'tiny'" in result.stderr


def test_tutorial_graph_grows_every_recorded_iteration_and_persistent_never_changes(model_run):
    out = model_run[0]
    tutorial_ops = _iterations(out, "00")["graph_ops"].dropna().to_numpy()
    persistent_ops = _iterations(out, "01")["graph_ops"].dropna().to_numpy()
    assert len(tutorial_ops) >= WARMUP_STEPS + ITERATIONS - 2  # the op count is cheap: read nearly every step
    assert (tutorial_ops[1:] > tutorial_ops[:-1]).all()
    assert len(set(persistent_ops)) == 1


def test_report_explains_the_tutorial_with_graph_growth_and_it_is_slower(model_run):
    _, _, by_name = model_run
    tutorial = by_name["tutorial[gpu-memory=growth]"]
    persistent = by_name["persistent[gpu-memory=growth]"]
    assert "graph_growth" in [hint["kind"] for hint in tutorial["hints"]]
    assert "graph_growth" not in [hint["kind"] for hint in persistent["hints"]]
    assert tutorial["latency_ms"]["p50"] > 2 * persistent["latency_ms"]["p50"]


def test_gpu_axis_without_a_gpu_says_it_had_no_effect(model_run):
    out, _, by_name = model_run
    notes = by_name["persistent[gpu-memory=growth]"]["child"]["notes"]
    if "GPU" in json.dumps(json.loads((out / "run.json").read_text())["environment"]["gpus"]):
        pytest.skip("a GPU is visible: the axis takes effect")
    assert any("no effect" in note for note in notes), notes
    assert "no effect" in (out / "report.html").read_text()
