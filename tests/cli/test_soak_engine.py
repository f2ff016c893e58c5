"""Integration tests of the soak engine: real child processes running planted workloads (no TensorFlow)."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers import FAULTS, run_cli

TRUE_LEAK_BYTES_PER_ITER = 16 * 1024


@pytest.fixture(scope="module")
def engine_run(tmp_path_factory):
    """GIVEN five planted workloads WHEN soaked in one run THEN each gets its own child and a verdict."""
    out = tmp_path_factory.mktemp("engine") / "run"
    result = run_cli(
        "soak",
        "--workload", f"{FAULTS}:leak_16k",
        "--workload", f"{FAULTS}:flat",
        "--workload", f"{FAULTS}:sigkill_at_300",
        "--workload", f"{FAULTS}:raise_at_50",
        "--workload", f"{FAULTS}:object_form",
        "--iterations", "2000", "--warmup", "20", "--out", str(out), "--no-progress", "--exact",
        # The attribution pass has its own run (tests/cli/test_attribution.py); here it would only add a child.
        "--attribute", "off",
    )
    summary = json.loads((out / "summary.json").read_text())
    by_name = {entry["name"]: entry for entry in summary["strategies"]}
    return out, result, summary, by_name


def test_run_completes_with_exit_0_and_all_outputs(engine_run):
    out, result, summary, by_name = engine_run
    assert result.returncode == 0, result.stderr
    for name in ("run.json", "summary.json", "summary.md", "report.html"):
        assert (out / name).is_file(), name
    assert list(by_name) == ["faults:leak_16k", "faults:flat", "faults:sigkill_at_300", "faults:raise_at_50",
                             "faults:object_form"]
    meta = json.loads((out / "run.json").read_text())
    assert meta["samplers"]["rss"] == "available"
    assert meta["samplers"]["nvml"].startswith(("available", "unavailable: "))
    assert meta["environment"]["python"]
    assert meta["command_line"][:2] == ["leakhunt", "soak"] and "--iterations" in meta["command_line"]


def test_planted_16k_leak_is_judged_leak_with_slope_within_20_percent(engine_run):
    entry = engine_run[3]["faults:leak_16k"]
    assert entry["verdict"] == "leak"
    assert entry["rss_slope_bytes_per_iter"] == pytest.approx(TRUE_LEAK_BYTES_PER_ITER, rel=0.20)
    low, high = entry["rss_slope_ci95_bytes_per_iter"]
    assert low <= entry["rss_slope_bytes_per_iter"] <= high
    assert entry["rss_growth_bytes"] > 0.5 * TRUE_LEAK_BYTES_PER_ITER * 2000
    assert entry["iterations_completed"] == 2000


def test_attribute_off_runs_no_second_pass_even_for_a_leak(engine_run):
    out, _, _, by_name = engine_run
    entry = by_name["faults:leak_16k"]
    assert (entry["verdict"], entry["attribution"]["status"]) == ("leak", "skipped: --attribute off")
    assert not list(out.rglob("attribution*"))


def test_allocate_and_free_workload_is_flat(engine_run):
    entry = engine_run[3]["faults:flat"]
    assert entry["verdict"] == "flat"
    assert abs(entry["rss_slope_bytes_per_iter"]) < 512


def test_sigkilled_child_is_crashed_with_its_data_kept_and_the_run_goes_on(engine_run):
    out, _, _, by_name = engine_run
    entry = by_name["faults:sigkill_at_300"]
    assert entry["verdict"] == "crashed"
    assert abs(entry["iterations_completed"] - 280) <= 5  # 300 steps minus 20 warm-up, give or take one
    status = json.loads(next((out / "strategies").glob("02-*/status.json")).read_text())
    assert status["signal_name"] == "SIGKILL"
    assert "likely out of memory" in status["description"]
    iterations_csv = next((out / "strategies").glob("02-*/iterations.csv")).read_text().splitlines()
    assert len(iterations_csv) > 100  # flushed at least once a second: most rows reached the disk
    # The strategies after the crash still ran.
    assert by_name["faults:raise_at_50"]["iterations_completed"] == 30
    assert by_name["faults:object_form"]["iterations_completed"] == 2000


def test_raising_workload_is_failed_with_exception_text(engine_run):
    entry = engine_run[3]["faults:raise_at_50"]
    assert entry["verdict"] == "failed"
    assert "planted failure at step 50" in json.dumps(entry)


def test_object_form_records_images_per_step_and_evidence(engine_run):
    out = engine_run[0]
    folder = next((out / "strategies").glob("04-*"))
    assert json.loads((folder / "child.json").read_text())["images_per_step"] == 4
    assert ",7," in (folder / "iterations.csv").read_text()  # graph_ops evidence column


def test_samples_map_to_iterations_and_span_the_run(engine_run):
    out = engine_run[0]
    samples = (next((out / "strategies").glob("00-*")) / "samples.csv").read_text().splitlines()
    steps = [int(line.split(",")[1]) for line in samples[1:]]
    assert steps == sorted(steps)  # the progress counter only moves forward
    assert steps[-1] == 2020  # the final state was sampled (the child lingers after its last step)
    assert len([s for s in steps if s >= 20]) >= 15


def test_report_rebuilds_identical_summary_from_a_copied_folder(engine_run, tmp_path):
    out = engine_run[0]
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    original = (out / "summary.json").read_bytes()
    (copy / "summary.json").unlink()
    result = run_cli("report", str(copy))
    assert result.returncode == 0, result.stderr
    assert (copy / "summary.json").read_bytes() == original


def test_report_tolerates_a_partial_last_line(engine_run, tmp_path):
    copy = tmp_path / "partial"
    shutil.copytree(engine_run[0], copy)
    iterations = next((copy / "strategies").glob("00-*")) / "iterations.csv"
    with open(iterations, "a") as handle:
        handle.write("2020,measure,12")  # a crash mid-write
    result = run_cli("report", str(copy), "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads((copy / "summary.json").read_text())
    assert summary["strategies"][0]["verdict"] == "leak"


def test_fail_on_leak_exits_1_and_a_high_threshold_exits_0(tmp_path):
    leaking = run_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--iterations", "1500", "--out",
                      str(tmp_path / "a"), "--fail-on-leak", "--no-progress", "--attribute", "off")
    assert leaking.returncode == 1, leaking.stderr
    tolerated = run_cli("report", str(tmp_path / "a"))  # report itself never fails on a leak
    assert tolerated.returncode == 0
    above_threshold = run_cli("soak", "--workload", f"{FAULTS}:leak_16k", "--iterations", "1500", "--out",
                              str(tmp_path / "b"), "--fail-on-leak", "--leak-threshold", "1000000",
                              "--no-progress", "--attribute", "off")
    assert above_threshold.returncode == 0, above_threshold.stderr


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_duration_stops_a_strategy_before_its_iterations(tmp_path):
    out = tmp_path / "run"
    result = run_cli("soak", "--workload", f"{FAULTS}:flat", "--iterations", "1000000", "--duration", "2s",
                     "--warmup", "0", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    status = json.loads(next((out / "strategies").glob("00-*/status.json")).read_text())
    assert status["outcome"] == "completed"
    assert 200 < status["iterations_completed"] < 10000
    assert status["wall_time_s"] < 15


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_compare_cli_writes_markdown_and_html(engine_run, tmp_path):
    out = engine_run[0]
    after = tmp_path / "after"
    shutil.copytree(out, after)
    result = run_cli("compare", str(out), str(after), "--out", str(tmp_path / "cmp"))
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "cmp" / "compare.md").read_text()
    assert "faults:leak\\_16k" in markdown  # Markdown-escaped name
    assert "| leak → leak |" in markdown
    assert (tmp_path / "cmp" / "compare.html").is_file()
    missing = run_cli("compare", str(out), str(tmp_path / "nope"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
