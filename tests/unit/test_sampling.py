"""Samplers: psutil on a real process; NVML through a fake module (no GPU here), errors recorded not raised."""

from __future__ import annotations

import os

from helpers.fake_nvml import FakeNvml, FakeNvmlError
from leakhunt.sampling import NvmlSampler, RssSampler


def test_rss_sampler_reads_a_real_process():
    sampler = RssSampler()
    assert sampler.probe().available
    values = sampler.sample(os.getpid())
    assert values["rss_bytes"] > 10 * 2**20
    assert values["uss_bytes"] is None or 0 < values["uss_bytes"] <= values["rss_bytes"]


def test_real_nvml_probe_never_raises():
    probe = NvmlSampler().probe()
    assert probe.available or probe.describe().startswith("unavailable: ")


def test_missing_nvml_library_is_recorded_as_unavailable():
    class Broken(FakeNvml):
        def nvmlInit(self):
            raise FakeNvmlError("NVML Shared Library Not Found")

    probe = NvmlSampler(Broken()).probe()
    assert not probe.available
    assert "NVML Shared Library Not Found" in probe.describe()


def test_nvml_sampler_attributes_process_memory_and_records_errors():
    fake = FakeNvml(pid_to_report=4242)
    sampler = NvmlSampler(fake)
    assert sampler.probe().available
    assert sampler.describe_devices()[0]["name"] == "Fake GPU"
    rows = [sampler.sample(4242) for _ in range(6)]
    ok = [row for row in rows if row["nvml_error"] is None]
    failed = [row for row in rows if row["nvml_error"] is not None]
    assert ok and failed
    assert ok[0]["gpu_process_bytes"] == 512 * 2**20
    assert ok[0]["gpu_total_bytes"] == 16 * 2**30
    assert "GPU is lost" in failed[0]["nvml_error"]
    sampler.close()
    assert fake.shut_down


def test_oom_kill_counter_cgroup_v2_and_v1(tmp_path):
    from leakhunt.sampling.oom import oom_kill_count

    proc = tmp_path / "proc"
    cgroup = tmp_path / "cgroup"
    (proc / "10").mkdir(parents=True)
    (proc / "10" / "cgroup").write_text("0::/user.slice/app\n")
    (cgroup / "user.slice" / "app").mkdir(parents=True)
    (cgroup / "user.slice" / "app" / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n")
    assert oom_kill_count(10, proc, cgroup) == 2
    (proc / "11").mkdir()
    (proc / "11" / "cgroup").write_text("5:cpu,cpuacct:/\n4:memory:/job/7\n0::/\n")
    (cgroup / "memory" / "job" / "7").mkdir(parents=True)
    (cgroup / "memory" / "job" / "7" / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n")
    assert oom_kill_count(11, proc, cgroup) == 5
    assert oom_kill_count(12, proc, cgroup) is None  # no such process: unknown, never an error


def test_oom_kill_counter_on_this_machine_is_a_count_or_unknown():
    from leakhunt.sampling.oom import oom_kill_count

    value = oom_kill_count(os.getpid())
    assert value is None or value >= 0


def test_status_names_the_oom_killer_when_the_cgroup_counter_rose(tmp_path):
    from leakhunt.harness.exit_status import Observed, classify

    killed = Observed(returncode=-9, steps_done=120, wall_time_s=3.0, warmup_steps=0, oom_kills=1)
    status = classify(killed, tmp_path)
    assert "OOM killer" in status.description and status.cgroup_oom_kills == 1
    status = classify(Observed(returncode=-9, steps_done=120, wall_time_s=3.0, warmup_steps=0, oom_kills=0), tmp_path)
    assert status.description == "killed by SIGKILL (likely out of memory)"
    capped = Observed(returncode=-9, steps_done=120, wall_time_s=3.0, warmup_steps=20, oom_kills=1,
                      in_own_cgroup=True, memory_limit_bytes=300 * 2**20)
    status = classify(capped, tmp_path)
    assert status.memory_limit_hit and "cgroup cap at iteration 100" in status.description

def test_memory_cgroup_on_a_fake_v1_tree_and_stale_cleanup(tmp_path):
    from leakhunt.sampling.memcap import MemoryCgroup

    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("4:memory:/job\n0::/\n")
    parent = tmp_path / "cgroup" / "memory" / "job"
    parent.mkdir(parents=True)
    stale = parent / "leakhunt-999999999-0"  # a pid that cannot exist: left by a hard-killed run
    stale.mkdir()

    cgroup = MemoryCgroup.create(300 * 2**20, proc, tmp_path / "cgroup")
    assert cgroup is not None and cgroup.version == "v1"
    assert (cgroup.folder / "memory.limit_in_bytes").read_text() == str(300 * 2**20)
    assert not stale.exists()
    (cgroup.folder / "memory.limit_in_bytes").unlink()
    cgroup.remove()
    assert not cgroup.folder.exists()


def test_no_memory_cgroup_where_none_can_be_created(tmp_path):
    from leakhunt.sampling.memcap import MemoryCgroup

    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("0::/\n")  # v2 root: the test tree has no such folder
    assert MemoryCgroup.create(2**30, proc, tmp_path / "missing") is None


def test_nvml_sampler_records_the_sm_clock_and_throttle_reasons_where_the_driver_has_them():
    class Clocked(FakeNvml):
        NVML_CLOCK_SM = 1

        def nvmlDeviceGetClockInfo(self, handle, clock_type):
            assert clock_type == self.NVML_CLOCK_SM
            return 1410

        def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
            return 0x20  # e.g. SW thermal slowdown

    sampler = NvmlSampler(Clocked(pid_to_report=1, fail_every=0))
    assert sampler.probe().available
    row = sampler.sample(1)
    assert (row["gpu_sm_clock_mhz"], row["gpu_throttle_reasons"]) == (1410, 0x20)
    # An older driver without these calls: recorded as missing, never an error.
    bare = NvmlSampler(FakeNvml(pid_to_report=1, fail_every=0))
    assert bare.probe().available
    row = bare.sample(1)
    assert row["gpu_sm_clock_mhz"] is None and row["gpu_throttle_reasons"] is None and row["nvml_error"] is None
