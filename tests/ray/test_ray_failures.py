"""Which killer ended a Ray task, from Ray's own exception objects: the memory monitor, the kernel's OOM killer,
a lost node, a Ctrl-C, a leakhunt error on the worker; and the status written with whatever data came back."""

from __future__ import annotations

import json

import pytest

from helpers import FAULTS, assert_one_line_error, invoke_cli
from leakhunt.backends.ray_failures import describe_ray_failure, failure_status

exceptions = pytest.importorskip("ray.exceptions")


def test_rays_memory_monitor_is_named_as_the_killer():
    failure = describe_ray_failure(exceptions.OutOfMemoryError("Task was killed due to the node running low on "
                                                               "memory."), oom_kills_on_driver_host=0)
    assert failure.outcome == "crashed" and failure.out_of_memory
    assert "Ray's memory monitor" in failure.description and "RAY_memory_usage_threshold" in failure.description


def test_a_crashed_worker_is_told_apart_by_the_kernels_oom_counter():
    oom = describe_ray_failure(exceptions.WorkerCrashedError(), oom_kills_on_driver_host=1)
    assert oom.out_of_memory and "kernel's OOM killer" in oom.description
    other = describe_ray_failure(exceptions.WorkerCrashedError(), oom_kills_on_driver_host=0)
    assert not other.out_of_memory and "not Ray's memory monitor" in other.description
    assert describe_ray_failure(exceptions.WorkerCrashedError(), None).outcome == "crashed"


def test_a_lost_node_and_a_cancelled_task():
    lost = describe_ray_failure(exceptions.NodeDiedError("node 10.0.0.2 died"), None)
    assert lost.outcome == "crashed" and "node running it was lost" in lost.description
    assert describe_ray_failure(exceptions.TaskCancelledError(), None).outcome == "interrupted"


def _task_error(cause):
    return exceptions.RayTaskError("run_strategy_on_worker", "Traceback ...", cause).as_instanceof_cause()


def test_an_error_raised_on_the_worker_is_crashed_with_its_message():
    failure = describe_ray_failure(_task_error(RuntimeError("cannot sample process memory")), None)
    assert failure.outcome == "crashed"
    assert "leakhunt failed on the Ray worker: RuntimeError: cannot sample process memory" in failure.description
    assert describe_ray_failure(_task_error(KeyboardInterrupt()), None).outcome == "interrupted"


def test_the_status_keeps_the_rows_that_came_back(tmp_path):
    rows = "step,phase,latency_ms\n" + "".join(f"{step},{'warmup' if step < 5 else 'measure'},1.0\n"
                                               for step in range(40))
    (tmp_path / "iterations.csv").write_text(rows + "40,meas")  # a partial last line, cut by the kill
    failure = describe_ray_failure(exceptions.WorkerCrashedError(), 0)
    status = failure_status(failure, tmp_path, warmup_steps=5, wall_time_s=3.21).to_json()
    assert (status["outcome"], status["steps_completed"], status["iterations_completed"]) == ("crashed", 40, 35)
    assert status["warmup_completed"] == 5 and status["description"] == failure.description
    json.dumps(status)  # status.json as exit_status writes it


@pytest.mark.parametrize("address, fragment", [
    ("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
    ("ray://127.0.0.1:1", "no Ray cluster answers at ray://127.0.0.1:1"),
    ("nonsense", "--ray-address must be host:port, ray://host:port or auto, got 'nonsense'"),
])
def test_an_address_where_no_cluster_answers_is_one_line_not_a_hang(tmp_path, address, fragment):
    # ray.init() itself would retry such an address for ever; the probe answers within seconds.
    out = tmp_path / "run"
    result = invoke_cli("soak", "--workload", f"{FAULTS}:flat", "--backend", "ray", "--ray-address", address,
                        "--out", str(out))
    assert_one_line_error(result, fragment)
    assert not out.exists()
