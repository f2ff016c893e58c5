"""--backend ray without running Ray: the options each task gets, the GPU mapping a worker sees, the folder
round trip, the hosts note, and the one-line errors (Ray missing, unknown backend). The note in a rendered report:
tests/report/test_report_ray_hosts.py."""

from __future__ import annotations

import io
import os
import sys
import tarfile
from types import SimpleNamespace

import pytest

from helpers import FAULTS, assert_one_line_error, invoke_cli
from helpers.fake_nvml import TwoGpuNvml
from leakhunt.backends.ray_options import ClusterShape, NodeShape, cluster_shape, task_options
from leakhunt.backends.ray_placement import hosts_note
from leakhunt.backends.ray_task import (
    WorkerPayload,
    pack_folder,
    prepare_worker_environment,
    unpack_folder,
    visible_gpus,
)
from leakhunt.errors import BadInputError
from leakhunt.rundir.config import StrategySpec
from leakhunt.sampling.nvml import NvmlSampler

CPU_NODE = NodeShape("n-cpu", "cpu-host", "10.0.0.1", cpus=16, gpus=0)
GPU_NODE = NodeShape("n-gpu", "gpu-host", "10.0.0.2", cpus=8, gpus=4)


def spec(device=None, name="s"):
    kwargs = {} if device == "custom" else {"device": device}
    return StrategySpec(name=name, factory="leakhunt.strategies.factory:build", factory_kwargs=kwargs)


def test_a_gpu_strategy_gets_one_whole_gpu_no_retries_and_a_fresh_worker():
    options = task_options(spec("gpu"), ClusterShape((CPU_NODE, GPU_NODE)), None)
    assert (options.num_gpus, options.num_cpus) == (1, 1)
    assert options.remote_kwargs() == {"max_calls": 1, "max_retries": 0, "retry_exceptions": False}
    assert options.options_kwargs()["num_gpus"] == 1 and options.options_kwargs()["max_retries"] == 0


def test_a_cpu_strategy_holds_the_largest_nodes_cores_unless_told():
    cluster = ClusterShape((CPU_NODE, GPU_NODE))
    assert task_options(spec("cpu"), cluster, None).num_cpus == 16
    assert task_options(spec("cpu"), cluster, 3).num_cpus == 3
    assert task_options(spec("cpu"), cluster, None).num_gpus == 0
    assert task_options(spec("cpu"), cluster, None).remote_kwargs()["max_calls"] == 1  # Ray's default is not 1


def test_without_an_explicit_device_a_gpu_cluster_gives_each_strategy_a_gpu():
    assert task_options(spec(None), ClusterShape((GPU_NODE,)), None).num_gpus == 1
    assert task_options(spec("custom"), ClusterShape((GPU_NODE,)), None).num_gpus == 1
    assert task_options(spec(None), ClusterShape((CPU_NODE,)), None).num_gpus == 0


@pytest.mark.parametrize("strategy, cluster, cpus, fragment", [
    (spec("gpu"), ClusterShape((CPU_NODE,)), None, "has none; use --device cpu"),
    (spec("cpu"), ClusterShape((CPU_NODE,)), 17, "more than the largest Ray node's 16 CPUs"),
    (spec("cpu"), ClusterShape(()), None, "no alive node"),
])
def test_a_task_no_node_could_run_is_bad_input(strategy, cluster, cpus, fragment):
    with pytest.raises(BadInputError, match=fragment.replace("(", r"\(")):
        task_options(strategy, cluster, cpus)


def test_cluster_shape_reads_alive_nodes_only():
    nodes = [{"Alive": True, "NodeID": "a", "NodeManagerHostname": "h1", "NodeManagerAddress": "1.1.1.1",
              "Resources": {"CPU": 2.0, "GPU": 1.0}},
             {"Alive": False, "NodeID": "b", "Resources": {"CPU": 64.0}}]
    shape = cluster_shape(nodes)
    assert shape.nodes == (NodeShape("a", "h1", "1.1.1.1", 2.0, 1.0),)
    assert shape.largest_node_cpus == 2


class TwoGpus(TwoGpuNvml):
    """Two GPUs with distinct UUIDs; GPU 1 holds the child's memory."""

    UUID_FORMAT = "GPU-{0}{0}{0}{0}-uuid"

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(used=(5 if handle == 1 else 1) * 2**30, total=16 * 2**30)

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        return [SimpleNamespace(pid=4242, usedGpuMemory=3 * 2**30)] if handle == 1 else []


def payload(num_gpus):
    return WorkerPayload(index=0, count=1, config_json={}, folder_name="00-s", worker_root="/tmp/x", num_cpus=1,
                         num_gpus=num_gpus, driver_omp_num_threads=None)


def test_the_gpu_ray_assigned_is_the_one_sampled(monkeypatch):
    # GIVEN Ray gave the task the node's second GPU: CUDA_VISIBLE_DEVICES=1 in the worker
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what Ray sets for a 1-CPU task
    prepare_worker_environment(payload(num_gpus=1))
    # WHEN the worker's NVML sampler is probed THEN it reads that card, found by UUID, and only that one
    sampler = NvmlSampler(TwoGpus())
    assert sampler.probe().available
    assert [gpu["uuid"] for gpu in visible_gpus(sampler)] == ["GPU-1111-uuid"]
    row = sampler.sample(4242)
    assert (row["gpu_used_bytes"], row["gpu_process_bytes"]) == (5 * 2**30, 3 * 2**30)
    assert "OMP_NUM_THREADS" not in os.environ  # the driver had none: neither does the child


def test_a_cpu_task_sees_no_gpu_even_where_ray_leaves_them_visible(monkeypatch):
    # Ray >= 2.47 leaves it unset for num_gpus=0 (set first so monkeypatch restores it after the worker's edit)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "unset-below")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    prepare_worker_environment(payload(num_gpus=0))
    sampler = NvmlSampler(TwoGpus())
    assert not sampler.probe().available
    assert visible_gpus(None) == ()


def test_a_strategy_folder_round_trips_and_nothing_escapes_it(tmp_path):
    source = tmp_path / "worker" / "00-s"
    source.mkdir(parents=True)
    (source / "iterations.csv").write_text("step\n0\n")
    (source / "status.json").write_text("{}")
    unpack_folder(pack_folder(source), tmp_path / "run" / "00-s")
    assert sorted(p.name for p in (tmp_path / "run" / "00-s").iterdir()) == ["iterations.csv", "status.json"]
    # An archive naming a path outside the folder writes nothing there.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"hi"))
    unpack_folder(buffer.getvalue(), tmp_path / "run" / "01-t")
    assert not (tmp_path / "run" / "escaped.txt").exists()


def test_the_report_says_when_strategies_ran_on_different_hosts():
    specs = (spec(name="a"), spec(name="b"), spec(name="c"))
    one_host = {0: {"node_id": "n1", "host_name": "h1"}, 1: {"node_id": "n1", "host_name": "h1"}}
    assert hosts_note(specs, one_host) is None
    two_hosts = {**one_host, 2: {"node_id": "n2", "host_name": "h2", "node_ip": "10.0.0.2"}}
    note = hosts_note(specs, two_hosts)
    assert note is not None and "2 different hosts" in note and "latencies are not comparable" in note
    assert "h2 (10.0.0.2): c" in note


def test_backend_ray_without_ray_installed_is_one_line_and_exit_2(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "run"
    result = invoke_cli("soak", "--workload", f"{FAULTS}:flat", "--backend", "ray", "--out", str(out))
    assert_one_line_error(result, "--backend ray needs Ray, which is not installed", "leakhunt[ray]")
    assert not out.exists()  # said before any folder was created


@pytest.mark.parametrize("args, fragment", [
    (("--backend", "dask"), "unknown --backend 'dask'; choose one of local, ray"),
    (("--ray-address", "auto"), "--ray-address only applies with --backend ray"),
    (("--backend", "ray", "--ray-cpus-per-strategy", "0"), "--ray-cpus-per-strategy must be greater than 0"),
])
def test_bad_backend_options_are_one_line(tmp_path, args, fragment):
    result = invoke_cli("soak", "--workload", f"{FAULTS}:flat", *args, "--out", str(tmp_path / "run"))
    assert_one_line_error(result, fragment)
