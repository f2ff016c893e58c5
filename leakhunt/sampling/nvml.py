"""GPU memory via NVML (pynvml from nvidia-ml-py): the child's own usage and each device's used/total.

A missing library, driver or GPU is a Probe(available=False, reason), never an error. NVML calls that
fail during a run are recorded in the sample's `nvml_error` column and the run goes on.
"""

from __future__ import annotations

from typing import Any

from leakhunt.sampling.base import Probe, Sampler


class NvmlSampler(Sampler):
    name = "nvml"

    def __init__(self, nvml_module: Any = None) -> None:
        # Tests inject a fake module; production imports pynvml lazily so a machine without it still works.
        self._nvml = nvml_module
        self._handles: list[Any] = []
        self._initialised = False

    def probe(self) -> Probe:
        if self._nvml is None:
            try:
                import pynvml
            except ImportError as error:
                return Probe(False, f"pynvml not importable ({error}); install nvidia-ml-py")
            self._nvml = pynvml
        nvml = self._nvml
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as error:
            return Probe(False, f"NVML init failed: {error} (no NVIDIA driver or GPU visible)")
        self._initialised = True
        try:
            count = nvml.nvmlDeviceGetCount()
            self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except nvml.NVMLError as error:
            return Probe(False, f"NVML could not list GPUs: {error}")
        if not self._handles:
            return Probe(False, "NVML found no GPU")
        return Probe(True)

    def describe_devices(self) -> list[dict[str, Any]]:
        """Names, totals and the driver version, for run.json's environment."""
        nvml = self._nvml
        devices = []
        for index, handle in enumerate(self._handles):
            entry: dict[str, Any] = {"index": index}
            try:
                name = nvml.nvmlDeviceGetName(handle)
                entry["name"] = name.decode() if isinstance(name, bytes) else str(name)
                entry["memory_total_bytes"] = int(nvml.nvmlDeviceGetMemoryInfo(handle).total)
            except nvml.NVMLError as error:
                entry["error"] = str(error)
            devices.append(entry)
        return devices

    def driver_version(self) -> str | None:
        try:
            version = self._nvml.nvmlSystemGetDriverVersion()
        except self._nvml.NVMLError:
            return None
        return version.decode() if isinstance(version, bytes) else str(version)

    def _clocks(self, handle: Any) -> tuple[int | None, int | None]:
        """(SM clock MHz, clock throttle-reason bitmask): a slowing GPU explains latency drift too.

        Either is None where this driver or pynvml lacks the call (older pynvml names the reasons
        "throttle", newer ones "clocks event"); that is data, not an error.
        """
        nvml = self._nvml
        clock = reasons = None
        try:
            clock = int(nvml.nvmlDeviceGetClockInfo(handle, getattr(nvml, "NVML_CLOCK_SM", 1)))
        except (nvml.NVMLError, AttributeError):
            pass
        getter = (getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
                  or getattr(nvml, "nvmlDeviceGetCurrentClocksThrottleReasons", None))
        if getter is not None:
            try:
                reasons = int(getter(handle))
            except nvml.NVMLError:
                pass
        return clock, reasons

    def sample(self, pid: int) -> dict[str, Any]:
        nvml = self._nvml
        process_bytes = 0
        used_bytes = 0
        total_bytes = 0
        errors = []
        sm_clocks: list[int] = []
        throttle = None
        for index, handle in enumerate(self._handles):
            clock, reasons = self._clocks(handle)
            if clock is not None:
                sm_clocks.append(clock)
            if reasons is not None:
                throttle = reasons if throttle is None else throttle | reasons
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                used_bytes += int(memory.used)
                total_bytes += int(memory.total)
            except nvml.NVMLError as error:
                errors.append(f"gpu{index} memory: {error}")
            try:
                for process in nvml.nvmlDeviceGetComputeRunningProcesses(handle):
                    # usedGpuMemory is None when the driver cannot attribute memory (e.g. in some containers).
                    if process.pid == pid and process.usedGpuMemory is not None:
                        process_bytes += int(process.usedGpuMemory)
            except nvml.NVMLError as error:
                errors.append(f"gpu{index} processes: {error}")
        return {
            "gpu_process_bytes": process_bytes,
            "gpu_used_bytes": used_bytes if total_bytes else None,
            "gpu_total_bytes": total_bytes or None,
            "nvml_error": "; ".join(errors) or None,
            # The slowest device's SM clock and every device's throttle reasons, OR-ed.
            "gpu_sm_clock_mhz": min(sm_clocks) if sm_clocks else None,
            "gpu_throttle_reasons": throttle,
        }

    def close(self) -> None:
        if self._initialised:
            try:
                self._nvml.nvmlShutdown()
            except self._nvml.NVMLError:
                pass  # shutting down after a failed GPU: nothing left to release
            self._initialised = False
