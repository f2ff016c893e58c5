"""Faults are findings: segfaults, hangs, memory caps, Ctrl-C and NVML errors end a strategy, not the run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psutil
import pytest

from helpers import FAULTS, REPO_ROOT, run_cli


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "run"
    result = run_cli(
        "soak",
        "--workload", f"{FAULTS}:segfault_at_20",
        "--workload", f"{FAULTS}:hang_at_30",
        "--workload", f"{FAULTS}:leak_1mib_fast",
        "--workload", f"{FAULTS}:flat",
        "--iterations", "2000", "--warmup", "0", "--iteration-timeout", "1.5", "--memory-limit", "300MiB",
        "--out", str(out), "--no-progress", "--exact",  # every fault must be reached, not a settled verdict
        "--attribute", "off",  # no test here reads the attribution pass (tests/cli/test_attribution.py does)
    )
    summary = json.loads((out / "summary.json").read_text())
    statuses = {
        json.loads((folder / "strategy.json").read_text())["name"]: json.loads((folder / "status.json").read_text())
        for folder in sorted((out / "strategies").iterdir())
    }
    return out, result, {entry["name"]: entry for entry in summary["strategies"]}, statuses


def test_fault_run_finishes_normally(fault_run):
    _, result, by_name, _ = fault_run
    assert result.returncode == 0, result.stderr
    assert by_name["faults:flat"]["verdict"] == "flat"
    assert by_name["faults:flat"]["iterations_completed"] == 2000


def test_segfault_is_reported_as_crash_with_data_kept(fault_run):
    _, _, by_name, statuses = fault_run
    status = statuses["faults:segfault_at_20"]
    assert status["signal_name"] == "SIGSEGV"
    assert "segmentation fault" in status["description"]
    assert status["iterations_completed"] == 20
    assert "string_at" in status.get("fault_traceback", "") or "faults.py" in status.get("fault_traceback", "")
    assert by_name["faults:segfault_at_20"]["verdict"] == "crashed"


def test_hung_iteration_is_killed_and_reported(fault_run):
    _, _, by_name, statuses = fault_run
    status = statuses["faults:hang_at_30"]
    assert status["outcome"] == "hung"
    assert status["hung"] is True
    assert "--iteration-timeout" in status["description"]
    assert status["iterations_completed"] == 30
    assert status["wall_time_s"] < 30
    assert by_name["faults:hang_at_30"]["verdict"] == "crashed"


def test_memory_limit_kill_reports_out_of_memory_at_iteration_k(fault_run):
    _, _, by_name, statuses = fault_run
    status = statuses["faults:leak_1mib_fast"]
    assert status["memory_limit_hit"] is True
    # The kernel enforces it where leakhunt may create a memory cgroup; the parent's RSS check elsewhere.
    assert status["memory_limit_method"] == "parent RSS check" or status["memory_limit_method"].startswith(
        "memory cgroup")
    if status["memory_limit_method"].startswith("memory cgroup"):
        assert status["cgroup_oom_kills"] == 1 and "kernel OOM-killed" in status["description"]
    assert "out of memory" in status["description"] and "at iteration" in status["description"]
    k = status["iterations_completed"]
    assert 100 < k < 400  # 300 MiB cap, ~1 MiB per iteration, ~20-40 MiB interpreter baseline
    entry = by_name["faults:leak_1mib_fast"]
    assert entry["verdict"] == "crashed"
    assert entry["rss_slope_bytes_per_iter"] == pytest.approx(1024 * 1024, rel=0.25)  # data before the kill kept


def _wait_for(predicate, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_and_reaps_the_child_reports_and_exits_130(tmp_path):
    out = tmp_path / "run"
    parent = subprocess.Popen(
        [sys.executable, "-m", "leakhunt", "soak", "--workload", f"{FAULTS}:leak_16k", "--workload",
         f"{FAULTS}:flat", "--iterations", "1000000", "--warmup", "0", "--out", str(out), "--no-progress",
         "--exact"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A suite started as a background job inherits SIGINT ignored, and so would the parent: Python only
        # turns SIGINT into KeyboardInterrupt when it is not ignored at start-up. Give it a terminal's default.
        preexec_fn=_sigint_default,
    )
    child_info = out / "strategies" / "00-faults-leak_16k" / "child.json"
    try:
        assert _wait_for(child_info.exists, 30)
        assert _wait_for(lambda: (child_info.parent / "samples.csv").stat().st_size > 2000, 30)
        child_pid = json.loads(child_info.read_text())["pid"]
        parent.send_signal(signal.SIGINT)
        stdout, stderr = parent.communicate(timeout=60)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert parent.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE
    summary = json.loads((out / "summary.json").read_text())
    assert [entry["name"] for entry in summary["strategies"]] == ["faults:leak_16k"]  # the next one never ran
    status = json.loads((child_info.parent / "status.json").read_text())
    assert status["outcome"] == "interrupted"
    assert status["iterations_completed"] > 0
    # The child unwinds on the parent's SIGTERM and flushes: its last rows are not lost.
    rows = len((child_info.parent / "iterations.csv").read_text().splitlines()) - 1
    assert rows >= status["steps_completed"] - 2
    assert json.loads((out / "run.json").read_text())["interrupted"] is True
    assert (out / "report.html").is_file()


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_hard_killed_parent_leaves_no_orphan_and_report_rebuilds(tmp_path):
    out = tmp_path / "run"
    parent = subprocess.Popen(
        [sys.executable, "-m", "leakhunt", "soak", "--workload", f"{FAULTS}:leak_16k", "--iterations", "1000000",
         "--out", str(out), "--no-progress", "--exact"],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    child_info = out / "strategies" / "00-faults-leak_16k" / "child.json"
    try:
        assert _wait_for(child_info.exists, 30)
        assert _wait_for(lambda: (child_info.parent / "samples.csv").stat().st_size > 3000, 30)
        child_pid = json.loads(child_info.read_text())["pid"]
    finally:
        parent.kill()
        parent.wait()
    # PR_SET_PDEATHSIG: the child dies with its parent.
    assert _wait_for(lambda: not psutil.pid_exists(child_pid)
                     or psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE, 10)
    result = run_cli("report", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategies"][0]["iterations_completed"] > 0
    assert summary["strategies"][0]["verdict"] in ("leak", "crashed", "inconclusive")
