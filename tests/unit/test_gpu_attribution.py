"""GPU memory you can trust: NVML attribution in containers, CUDA_VISIBLE_DEVICES, and no silent zeros."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.fake_nvml import TwoGpuNvml
from leakhunt import rundir
from leakhunt.analysis.summarize import analyze_strategy
from leakhunt.rundir.records import RunRecord
from leakhunt.sampling.nvml import NvmlSampler

MIB = 2**20
CHILD_PID = 4242
HOST_PID = 987654  # what NVML reports for the same process from outside the container's PID namespace


class FakeNvml(TwoGpuNvml):
    """Two GPUs; the child's memory grows on GPU 1; process entries carry `reported_pid`."""

    def __init__(self, reported_pid=CHILD_PID, used_memory_known=True):
        self.reported_pid = reported_pid
        self.used_memory_known = used_memory_known
        self.samples = 0

    def _child_bytes(self, handle):
        return (500 + 10 * self.samples) * MIB if handle == 1 else 0

    def nvmlDeviceGetMemoryInfo(self, handle):
        used = 1000 * MIB + self._child_bytes(handle)
        return SimpleNamespace(used=used, total=16 * 1024 * MIB, free=16 * 1024 * MIB - used)

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        if handle != 1:
            return []
        self.samples += 1
        memory = self._child_bytes(handle) if self.used_memory_known else None
        return [SimpleNamespace(pid=self.reported_pid, usedGpuMemory=memory)]


def sampler_for(fake, monkeypatch, visible=None):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    sampler = NvmlSampler(fake)
    assert sampler.probe().available
    sampler.start_watch(CHILD_PID)
    return sampler


def test_matching_pids_sample_the_childs_process_memory(monkeypatch):
    sampler = sampler_for(FakeNvml(), monkeypatch)
    rows = [sampler.sample(CHILD_PID) for _ in range(5)]
    assert rows[-1]["gpu_process_bytes"] > rows[0]["gpu_process_bytes"] > 0
    assert sampler.attribution() == "available"


def test_host_pids_while_device_memory_rises_are_unavailable_with_the_reason(monkeypatch):
    sampler = sampler_for(FakeNvml(reported_pid=HOST_PID), monkeypatch)
    rows = [sampler.sample(CHILD_PID) for _ in range(10)]
    assert all(row["gpu_process_bytes"] == 0 for row in rows)  # what a naive sampler would call "flat"
    assert sampler.attribution().startswith("unavailable: PID namespace: NVML reports host PIDs")


def test_unreported_used_gpu_memory_is_unavailable_not_zero(monkeypatch):
    sampler = sampler_for(FakeNvml(used_memory_known=False), monkeypatch)
    rows = [sampler.sample(CHILD_PID) for _ in range(10)]
    assert all(row["gpu_process_bytes"] is None for row in rows)
    assert "no usedGpuMemory" in sampler.attribution()


def test_a_child_without_gpu_memory_is_not_unavailable(monkeypatch):
    class Idle(FakeNvml):
        def _child_bytes(self, handle):
            return 0

        def nvmlDeviceGetComputeRunningProcesses(self, handle):
            return []

    sampler = sampler_for(Idle(), monkeypatch)
    for _ in range(5):
        sampler.sample(CHILD_PID)
    assert sampler.attribution() == "no GPU memory"


@pytest.mark.parametrize("visible, expected_names", [
    (None, ["Fake GPU 0", "Fake GPU 1"]),
    ("1", ["Fake GPU 1"]),
    ("GPU-00000001-aaaa-bbbb-cccc-dddddddddddd", ["Fake GPU 1"]),
    ("GPU-00000000", ["Fake GPU 0"]),  # a UUID prefix, as CUDA accepts
    ("0,7,1", ["Fake GPU 0"]),  # CUDA ignores everything from the first invalid entry on
])
def test_cuda_visible_devices_selects_the_childs_devices(monkeypatch, visible, expected_names):
    sampler = sampler_for(FakeNvml(), monkeypatch, visible)
    assert [device["name"] for device in sampler.describe_devices()] == expected_names


def test_cuda_visible_devices_naming_no_gpu_is_an_unavailable_probe(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-ffffffff")
    probe = NvmlSampler(FakeNvml()).probe()
    assert not probe.available and "names none" in probe.reason


def test_a_gpu_leak_behind_host_pids_is_still_judged_a_leak_from_the_device_series():
    # GIVEN a child whose GPU memory grows 1 MiB per iteration, sampled in a container (process memory 0)
    steps = np.arange(0, 2000, 4)
    samples = pd.DataFrame({
        "t_monotonic_s": steps * 0.01, "steps_done": steps, "rss_bytes": 800 * MIB,
        "gpu_process_bytes": 0, "gpu_used_bytes": 2000 * MIB + steps * MIB, "gpu_total_bytes": 16384 * MIB,
    })
    iterations = pd.DataFrame({"step": np.arange(2000), "phase": "measure",
                               "start_monotonic_s": np.arange(2000) * 0.01, "latency_ms": 10.0})
    status = {"outcome": "completed", "iterations_completed": 2000,
              "gpu_process_attribution": "unavailable: PID namespace: NVML reports host PIDs"}
    strategy = rundir.StrategyData(0, Path("00-gpu"), {"name": "gpu"}, iterations, samples, status)
    # WHEN analysed THEN the zeros are not judged and the device series decides: a leak
    analysis = analyze_strategy(strategy, RunRecord.from_json({"config": {"warmup_steps": 0}}))
    assert analysis.estimates["gpu_process"] is None
    assert (analysis.verdict.verdict, analysis.verdict.deciding_series) == ("leak", "gpu_used")
