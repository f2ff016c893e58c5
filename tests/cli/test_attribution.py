"""The attribution pass with real children (no TensorFlow): the true lines of a Python and a ctypes leak, a pass
that crashes or hangs (the verdict stands). --attribute off: tests/cli/test_soak_engine.py (its run soaks a leak
with the pass turned off)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from helpers import run_cli
from leakhunt import rundir
from leakhunt.attribution.run_pass import run_child
from leakhunt.attribution.task import AttributionTask
from leakhunt.rundir.config import RunConfig, StrategySpec

WORKLOADS = textwrap.dedent('''
    import ctypes
    import os
    import time

    _libc = ctypes.CDLL(None)
    _libc.malloc.restype = ctypes.c_void_p
    _libc.malloc.argtypes = [ctypes.c_size_t]


    def leaky():
        log = []

        def step():
            scratch = bytearray(32 * 1024)  # made and dropped every call
            log.append(bytes(3000))  # PYTHON LEAK
            address = _libc.malloc(2048)  # NATIVE LEAK
            ctypes.memset(address, 1, 2048)
            return len(scratch)

        return step


    def fails_in_attribution():
        """Leaks; its attribution child dies (SIGABRT) or hangs, as a native crash or a deadlock would."""
        if os.environ.get("LEAKHUNT_PASS") == "attribution":
            if os.environ.get("HANG"):
                time.sleep(600)
            os.abort()
        kept = []

        def step():
            kept.append(bytearray(8192))

        return step
''')


def marked_line(path: Path, marker: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if marker in line)


@pytest.fixture(scope="module")
def attribution_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attribution")
    workloads = folder / "workloads.py"
    workloads.write_text(WORKLOADS, encoding="utf-8")
    out = folder / "run"
    result = run_cli("soak", "--workload", f"{workloads}:leaky", "--workload", f"{workloads}:fails_in_attribution",
                     "--iterations", "3000", "--out", str(out), "--no-progress", "--fail-on-leak")
    summary = json.loads((out / "summary.json").read_text())
    return workloads, out, result, {entry["name"]: entry for entry in summary["strategies"]}


def test_the_top_sites_are_the_true_lines_of_a_python_and_a_ctypes_leak(attribution_run):
    workloads, out, result, by_name = attribution_run
    entry = by_name["workloads:leaky"]
    assert entry["verdict"] == "leak"
    attribution = entry["attribution"]
    assert attribution["status"] == "done", attribution["status"]
    sites = [(site["file"], site["line"], site["kind"]) for site in attribution["sites"]]
    assert sites == [(str(workloads), marked_line(workloads, "PYTHON LEAK"), "python"),
                     (str(workloads), marked_line(workloads, "NATIVE LEAK"), "native")]
    python_site, native_site = attribution["sites"]
    assert python_site["bytes_per_iter"] == pytest.approx(3000 + 33, rel=0.1)  # the bytes object and its header
    assert native_site["bytes_per_iter"] == pytest.approx(2048 + 16, rel=0.1)  # malloc's chunk header
    assert attribution["explained_share"] == pytest.approx(1.0, abs=0.15)
    assert attribution["cost_s"] > 0 and attribution["cost"]["peak_rss_bytes"] > 0
    assert (out / "strategies" / entry["folder"] / rundir.ATTRIBUTION_FILE).is_file()  # `report` rebuilds from it
    assert "NATIVE LEAK" in (out / "summary.md").read_text(encoding="utf-8")
    assert "Where it grows" in (out / "report.html").read_text(encoding="utf-8")
    assert "where: workloads.py:" in result.stdout


def test_a_crashing_attribution_pass_costs_nothing_but_itself(attribution_run):
    workloads, out, result, by_name = attribution_run
    entry = by_name["workloads:fails_in_attribution"]
    assert (entry["verdict"], entry["outcome"]) == ("leak", "completed")
    assert entry["attribution"]["status"] == "failed: the attribution child was killed by signal 6 (out of memory?)"
    assert result.returncode == 1  # --fail-on-leak: both leaks count, the failed attribution changes nothing
    folder = out / "strategies" / entry["folder"]
    assert json.loads((folder / rundir.STATUS_FILE).read_text())["outcome"] == "completed"


def test_a_hanging_attribution_child_is_killed_at_its_time_limit(tmp_path, monkeypatch, attribution_run):
    workloads = attribution_run[0]
    monkeypatch.setenv("HANG", "1")
    spec = StrategySpec("hangs", f"{workloads}:fails_in_attribution")
    task = AttributionTask(spec, tmp_path, warmup_steps=1, iterations=10, checkpoints=3, tracked_time_limit_s=1.0)
    config = RunConfig(strategies=(spec,), out_dir=tmp_path, iterations=10, warmup_steps=0,
                       until_decided=False)
    outcome, reason, _, _ = run_child(task, tmp_path, config, limit_s=3.0)
    assert (outcome, reason) == ("failed", "timed out after 3 s (the child was killed)")


def test_where_memray_cannot_run_tracemalloc_and_the_witness_still_find_both_lines(tmp_path, attribution_run):
    workloads = attribution_run[0]
    task = AttributionTask(StrategySpec("leaky", f"{workloads}:leaky"), tmp_path, warmup_steps=5, iterations=200,
                           checkpoints=11, tracked_time_limit_s=60, tracker="tracemalloc")
    config = RunConfig(strategies=(task.spec,), out_dir=tmp_path, iterations=200, warmup_steps=0,
                       until_decided=False)
    assert run_child(task, tmp_path, config, limit_s=120)[0] == "done"
    raw = json.loads((tmp_path / rundir.ATTRIBUTION_FILE).read_text())
    assert raw["tracker"] == "tracemalloc" and raw["tracker_note"] == "tracemalloc was asked for"
    from leakhunt.analysis.attribution import AttributionContext, attribution_entry

    entry = attribution_entry(raw, {"outcome": "done", "wall_s": 1.0},
                              AttributionContext("auto", "leak", 3000 + 2048, None, None))
    assert [(site["line"], site["kind"]) for site in entry["sites"]] == [
        (marked_line(workloads, "PYTHON LEAK"), "python"), (marked_line(workloads, "NATIVE LEAK"), "native")]
