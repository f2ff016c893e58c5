"""A real attribution child on real TensorFlow leaks (one child, ~30 s): graph ops created per call are charged
to the line that creates them, with the session state they cause; a retracing tf.function to the line that
calls it, with the argument that varies."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import REPO_ROOT
from leakhunt import rundir
from leakhunt.analysis.attribution import AttributionContext, attribution_entry
from leakhunt.attribution.task import AttributionTask
from leakhunt.rundir.config import StrategySpec

# CI time: this module runs with -m slow (README).
pytestmark = pytest.mark.slow

WORKLOAD = REPO_ROOT / "tests" / "workloads" / "tf_attribution.py"


def marked_line(marker: str) -> int:
    return next(number for number, line in enumerate(WORKLOAD.read_text().splitlines(), 1)
                if line.rstrip().endswith(f"# {marker}"))


@pytest.fixture(scope="module")
def tf_attribution(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tf_attribution")
    task = AttributionTask(StrategySpec("two-tf-leaks", f"{WORKLOAD}:make"), folder, warmup_steps=5,
                           iterations=30, checkpoints=11, tracked_time_limit_s=300)
    task_path = folder / rundir.ATTRIBUTION_TASK_FILE
    task_path.write_text(json.dumps(task.to_json()), encoding="utf-8")
    completed = subprocess.run([sys.executable, "-m", "leakhunt.attribution.child_pass", str(task_path)],
                               capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    raw = json.loads((folder / rundir.ATTRIBUTION_FILE).read_text())
    growth = raw["checkpoints"][-1]["heap_bytes"] - raw["checkpoints"][0]["heap_bytes"]
    context = AttributionContext("auto", "leak", growth / raw["iterations"], None, None)
    return raw, attribution_entry(raw, {"outcome": "done", "wall_s": 1.0}, context)


def test_the_child_tracked_with_memray_and_found_every_checkpoint(tf_attribution):
    raw, _ = tf_attribution
    assert raw["tracker"] == "memray" and raw["iterations"] == 30
    assert all(reading["snapshot"] is not None for reading in raw["checkpoints"])


def test_graph_ops_made_per_call_are_charged_to_the_line_that_makes_them(tf_attribution):
    _, attribution = tf_attribution
    sites = {site["line"]: site for site in attribution["sites"]}
    site = sites[marked_line("OP LEAK")]
    assert site["kind"] == "tf-graph" and site["file"] == str(WORKLOAD)
    assert site["ops_per_iter"] == pytest.approx(1.0, abs=0.05)
    assert site["op_types"] == {"Softmax": 30}
    assert site["merged_from"], "the session's state for each new fetch belongs to the line making the op"


def test_a_retracing_function_is_charged_to_its_call_with_the_varying_argument(tf_attribution):
    _, attribution = tf_attribution
    sites = {site["line"]: site for site in attribution["sites"]}
    site = sites[marked_line("RETRACE LEAK")]
    assert site["kind"] == "tf-function"
    assert site["retracing"]["name"] == "scale"
    assert site["retracing"]["traces_per_iter"] == pytest.approx(1.0, abs=0.05)
    assert [argument["argument"] for argument in site["retracing"]["varying"]] == ["factor"]
    assert "body" not in {str(frame.get("function")) for frame in site["stack"][:1]}
    assert set(sites) <= {marked_line("OP LEAK"), marked_line("RETRACE LEAK")}
