"""A stand-in for pynvml: the functions leakhunt calls, with a memory query that fails every third call."""

from __future__ import annotations

from types import SimpleNamespace


class FakeNvmlError(Exception):
    pass


class FakeNvml:
    """Mimics pynvml's functions; fails the memory query on every third call."""

    NVMLError = FakeNvmlError

    def __init__(self, pid_to_report=None, fail_every=3):
        self.calls = 0
        self.pid_to_report = pid_to_report
        self.fail_every = fail_every
        self.shut_down = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut_down = True

    def nvmlDeviceGetCount(self):
        return 1

    def nvmlDeviceGetHandleByIndex(self, index):
        return f"handle{index}"

    def nvmlDeviceGetName(self, handle):
        return b"Fake GPU"

    def nvmlSystemGetDriverVersion(self):
        return "999.1"

    def nvmlDeviceGetMemoryInfo(self, handle):
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise FakeNvmlError("GPU is lost")
        return SimpleNamespace(used=3 * 2**30, total=16 * 2**30, free=13 * 2**30)

    def nvmlDeviceGetComputeRunningProcesses(self, handle):
        pid = self.pid_to_report
        return [SimpleNamespace(pid=pid, usedGpuMemory=512 * 2**20), SimpleNamespace(pid=1, usedGpuMemory=None)]


class TwoGpuNvml:
    """pynvml's device calls for two GPUs with distinct UUIDs (handle = index); subclasses add the memory and
    process queries their test needs."""

    NVMLError = FakeNvmlError
    UUID_FORMAT = "GPU-0000000{0}-aaaa-bbbb-cccc-dddddddddddd"

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        pass

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetUUID(self, handle):
        return self.UUID_FORMAT.format(handle)

    def nvmlDeviceGetName(self, handle):
        return f"Fake GPU {handle}"
