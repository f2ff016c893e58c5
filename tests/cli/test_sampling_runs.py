"""Samplers during a real soak: StrategyRun starts a real child process for each test."""

from __future__ import annotations

from helpers import FAULTS
from helpers.fake_nvml import FakeNvml
from leakhunt import rundir
from leakhunt.harness.progress_ui import ProgressDisplay
from leakhunt.rundir.config import RunConfig, StrategySpec
from leakhunt.runner import StrategyRun
from leakhunt.sampling import NvmlSampler, RssSampler


def test_nvml_errors_during_a_real_run_are_recorded_and_the_run_goes_on(tmp_path):
    spec = StrategySpec(name="flat", factory=f"{FAULTS}:flat")
    config = RunConfig(strategies=(spec,), out_dir=tmp_path, iterations=600, warmup_steps=0,
                       until_decided=False)
    fake = FakeNvml(pid_to_report=None)
    nvml = NvmlSampler(fake)
    assert nvml.probe().available
    folder = tmp_path / "strategies" / "00-flat"
    status = StrategyRun(0, 1, spec, config, folder, RssSampler(), nvml, ProgressDisplay(False)).run()
    assert status["outcome"] == "completed"
    samples = rundir.read_csv_tolerant(folder / rundir.SAMPLES_FILE, rundir.SAMPLE_COLUMNS)
    assert samples["nvml_error"].notna().any()
    assert samples["gpu_total_bytes"].notna().any()
    assert samples["rss_bytes"].notna().all()


def test_memory_limit_falls_back_to_the_parent_rss_check_without_a_cgroup(tmp_path, monkeypatch):
    from leakhunt.harness import launch

    monkeypatch.setattr(launch.MemoryCgroup, "create", classmethod(lambda cls, limit: None))
    spec = StrategySpec(name="leak", factory=f"{FAULTS}:leak_1mib_fast")
    config = RunConfig(strategies=(spec,), out_dir=tmp_path, iterations=2000, warmup_steps=0, until_decided=False,
                       memory_limit_bytes=200 * 2**20)
    status = StrategyRun(0, 1, spec, config, tmp_path / "s", RssSampler(), None, ProgressDisplay(False)).run()
    assert status["memory_limit_method"] == "parent RSS check"
    assert status["memory_limit_hit"] is True
    assert "exceeded --memory-limit" in status["description"] and "at iteration" in status["description"]
    assert 50 < status["iterations_completed"] < 300
