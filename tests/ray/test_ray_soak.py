"""`--backend ray` against the local backend on the same workloads: a planted leak, a flat one and one that
SIGKILLs itself give the same verdicts and summary fields; placements and Ray's options are recorded; a Ray
worker that dies is a `crashed` finding with its data kept; Ctrl-C cancels and reports what finished."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from helpers import FAULTS, REPO_ROOT, run_cli

pytest.importorskip("ray")

WORKLOADS = ("leak_16k", "flat", "sigkill_at_300")
# Every strategy runs its 400 iterations (--exact): the comparison is of verdicts, not of when each settled.
SOAK_ARGS = ("--iterations", "400", "--warmup", "5", "--no-progress", "--exact")


def _workload_args(names):
    return [arg for name in names for arg in ("--workload", f"{FAULTS}:{name}")]


def _summary(out):
    return json.loads((out / "summary.json").read_text())


def _entries(out):
    return {entry["name"]: entry for entry in _summary(out)["strategies"]}


@pytest.fixture(scope="module")
def local_and_ray_runs(tmp_path_factory, ray_address):
    root = tmp_path_factory.mktemp("ray_vs_local")
    # The attribution pass runs on Ray only (the test below reads it there); locally it has its own tests.
    local = run_cli("soak", *_workload_args(WORKLOADS), *SOAK_ARGS, "--out", str(root / "local"),
                    "--attribute", "off")
    started_s = time.monotonic()
    on_ray = run_cli("soak", *_workload_args(WORKLOADS), *SOAK_ARGS, "--out", str(root / "ray"),
                     "--backend", "ray", "--ray-address", ray_address)
    ray_wall_s = time.monotonic() - started_s
    assert local.returncode == 0, local.stderr
    assert on_ray.returncode == 0, on_ray.stderr
    return root / "local", root / "ray", on_ray, ray_wall_s


def test_ray_gives_the_local_verdicts_and_summary_fields(local_and_ray_runs):
    local_out, ray_out, _, _ = local_and_ray_runs
    local, on_ray = _entries(local_out), _entries(ray_out)
    assert list(on_ray) == list(local)  # run order kept, whatever order Ray finished them in
    for name in local:
        assert on_ray[name]["verdict"] == local[name]["verdict"], name
        assert on_ray[name]["outcome"] == local[name]["outcome"], name
        assert set(on_ray[name]) == set(local[name]), name
    assert set(_summary(ray_out)) == set(_summary(local_out))
    assert set(_summary(ray_out)["run"]) == set(_summary(local_out)["run"])
    assert on_ray["faults:leak_16k"]["verdict"] == "leak"
    assert on_ray["faults:leak_16k"]["rss_slope_bytes_per_iter"] == pytest.approx(16 * 1024, rel=0.25)
    assert on_ray["faults:leak_16k"]["attribution"]["status"] == "done"  # the second pass ran on Ray too
    assert on_ray["faults:flat"]["verdict"] == "flat"
    assert on_ray["faults:leak_16k"]["iterations_completed"] == on_ray["faults:flat"]["iterations_completed"] == 400
    killed = on_ray["faults:sigkill_at_300"]
    assert killed["outcome"] == "crashed" and killed["signal_name"] == "SIGKILL"
    assert 250 <= killed["iterations_completed"] <= 300
    for name in ("report.html", "summary.md"):
        assert (ray_out / name).is_file()


def test_placement_and_rays_options_are_recorded(local_and_ray_runs):
    _, ray_out, result, _ = local_and_ray_runs
    meta = json.loads((ray_out / "run.json").read_text())
    backend = meta["backend"]
    assert backend["name"] == "ray" and meta["config"]["backend"] == "ray"
    for options in backend["task_options"].values():
        # No silent reruns, a fresh worker per task, a whole node's cores per CPU strategy by default.
        assert options == {"max_calls": 1, "max_retries": 0, "retry_exceptions": False, "num_cpus": 2,
                           "num_gpus": 0}
    assert len(backend["placements"]) == len(WORKLOADS)
    worker_pids = set()
    for folder in sorted((ray_out / "strategies").iterdir()):
        placement = json.loads((folder / "strategy.json").read_text())["placement"]
        assert placement["host_name"] == socket.gethostname()
        assert placement["device"] == "cpu" and placement["num_cpus"] == 2
        assert placement["cuda_visible_devices"] == ""  # a CPU strategy never sees a GPU another task holds
        worker_pids.add(placement["worker_pid"])
        # The child is sampled, never the Ray worker (whose object-store pages are shared): USS beside RSS.
        assert json.loads((folder / "child.json").read_text())["pid"] != placement["worker_pid"]
        samples = (folder / "samples.csv").read_text().splitlines()
        uss_column = samples[0].split(",").index("uss_bytes")
        assert any(row.split(",")[uss_column] for row in samples[1:])
    assert len(worker_pids) == len(WORKLOADS)  # max_calls=1: one fresh worker per strategy
    assert all(entry["placement"]["node_id"] for entry in _summary(ray_out)["strategies"])
    assert backend["hosts_note"] is None  # one host: latencies comparable, the report says nothing
    finished = [line for line in result.stderr.splitlines() if line.startswith("leakhunt: [")]
    assert len(finished) == len(WORKLOADS)  # one line per finished strategy, naming its host
    assert all(f" on {socket.gethostname()}: " in line for line in finished)


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_a_dead_ray_worker_is_a_crashed_finding_and_the_run_goes_on(tmp_path, ray_address):
    out = tmp_path / "run"
    result = run_cli("soak", *_workload_args(("kill_parent_after_2s", "flat")), "--iterations", "100000",
                     "--warmup", "0", "--duration", "6s", "--no-progress", "--exact", "--out", str(out),
                     "--backend", "ray", "--ray-address", ray_address, "--ray-cpus-per-strategy", "1")
    assert result.returncode == 0, result.stderr
    entries = _entries(out)
    dead = entries["faults:kill_parent_after_2s"]
    assert dead["outcome"] == "crashed" and dead["verdict"] == "crashed"
    assert "Ray worker running it died" in dead["description"]
    assert dead["iterations_completed"] > 100  # the rows the child flushed before it died came back
    folder = out / "strategies" / dead["folder"]
    assert json.loads((folder / "status.json").read_text())["outcome"] == "crashed"
    assert json.loads((folder / "strategy.json").read_text())["placement"]["host_name"] == socket.gethostname()
    assert entries["faults:flat"]["outcome"] == "completed"


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _running_children():
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "leakhunt.child" in cmdline and any("leakhunt-ray-" in part for part in cmdline):
            found.append(process)
    return found


@pytest.mark.slow  # CI time: run with -m slow (README)
def test_ctrl_c_cancels_outstanding_tasks_and_reports_what_ran(tmp_path, ray_address):
    out = tmp_path / "run"
    driver = subprocess.Popen(
        [sys.executable, "-m", "leakhunt", "soak", *_workload_args(("leak_16k", "flat")), "--iterations",
         "1000000", "--warmup", "0", "--no-progress", "--exact", "--out", str(out), "--backend", "ray",
         "--ray-address", ray_address],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_default)
    try:
        deadline = time.monotonic() + 60
        while not _running_children() and time.monotonic() < deadline:
            time.sleep(0.2)
        children = _running_children()
        assert children, "no child started"
        time.sleep(2.0)  # some flushed rows
        driver.send_signal(signal.SIGINT)
        _, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert psutil.wait_procs(children, timeout=10)[1] == []  # the running child was stopped with its worker
    entries = _summary(out)["strategies"]
    # A whole node per CPU strategy: the first ran, the second was still queued and never started.
    assert [entry["name"] for entry in entries] == ["faults:leak_16k"]
    assert entries[0]["outcome"] == "interrupted" and entries[0]["iterations_completed"] > 0
    assert json.loads((out / "run.json").read_text())["interrupted"] is True


def test_the_python_api_uses_the_callers_ray_and_leaves_it_running(tmp_path, ray_address):
    import leakhunt
    import ray

    assert ray.is_initialized()  # the caller's own connection (this module's fixture)
    result = leakhunt.soak(f"{FAULTS}:flat", iterations=200, warmup=0, until_decided=False, out=tmp_path / "run",
                           backend="ray", ray_cpus_per_strategy=1)
    assert ray.is_initialized()  # not shut down under the caller
    assert result.exit_code == 0 and result.strategies[0].verdict == "flat"
    assert result.strategies[0].entry["placement"]["num_cpus"] == 1
