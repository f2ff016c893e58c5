"""`leakhunt doctor` on this CPU machine and with a fake NVML."""

from __future__ import annotations

from types import SimpleNamespace

from leakhunt.runner.doctor import run_doctor


def by_name(findings):
    return {finding.name: finding for finding in findings}


def test_doctor_on_a_machine_without_nvml_says_why_and_checks_the_host():
    findings = by_name(run_doctor(check_gpu=False, nvml_module=SimpleNamespace(
        NVMLError=RuntimeError, nvmlInit=lambda: (_ for _ in ()).throw(RuntimeError("NVML Shared Library Not Found")))))
    assert findings["nvml"].status == "missing" and "NVML Shared Library Not Found" in findings["nvml"].detail
    assert findings["c heap counters"].status in ("ok", "missing")
    assert findings["memory cgroup"].status in ("ok", "warn")
    assert "us" in findings["rss sample cost"].detail
    assert findings["machine-speed reference"].detail.endswith("ms (medians of 9)")


class FakeNvml:
    NVMLError = RuntimeError

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        pass

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetName(self, handle):
        return b"Fake H200"

    def nvmlDeviceGetUUID(self, handle):
        return "GPU-12345678-aaaa"

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(used=0, total=141 * 2**30, free=141 * 2**30)

    def nvmlSystemGetDriverVersion(self):
        return "999.99"


def test_doctor_lists_nvml_devices_with_uuids(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    nvml = by_name(run_doctor(check_gpu=False, nvml_module=FakeNvml()))["nvml"]
    assert nvml.status == "ok"
    assert "Fake H200" in nvml.detail and "GPU-12345678-aaaa" in nvml.detail and "driver 999.99" in nvml.detail


