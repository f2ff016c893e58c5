"""GPU memory via NVML (pynvml from nvidia-ml-py): the child's own usage and its devices' used/total.

A missing library, driver or GPU is a Probe(available=False, reason), never an error. NVML calls that
fail during a run are recorded in the sample's `nvml_error` column and the run goes on.

Only the devices the child can see are sampled: CUDA_VISIBLE_DEVICES (indices or UUIDs, as Ray and
container runtimes set it) is mapped to NVML devices by UUID. The child's own memory is found by matching
its PID in NVML's process list; inside a container NVML reports host PIDs, which never match, and some
drivers report no per-process memory at all. `attribution()` tells those cases apart from "the child holds
no GPU memory", so a GPU leak is never judged on silent zeros.
"""

from __future__ import annotations

import os
from typing import Any

from leakhunt.sampling.base import GpuDevice, Probe, Sampler, SampleRow

# Device memory that moved by more than this while the child ran, with no NVML process entry of its own,
# means NVML cannot attribute memory to the child (TF takes hundreds of MiB on its first GPU op).
ATTRIBUTION_MIN_DEVICE_GROWTH_BYTES = 64 * 2**20


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def visible_device_indices(nvml: Any, count: int, handles: list[Any], visible: str | None) -> list[int]:
    """NVML indices of the devices CUDA_VISIBLE_DEVICES names (all of them when it is unset)."""
    if visible is None:
        return list(range(count))
    entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
    uuids: list[str] = []
    for handle in handles:
        try:
            uuids.append(_text(nvml.nvmlDeviceGetUUID(handle)))
        except (nvml.NVMLError, AttributeError):
            uuids.append("")
    chosen: list[int] = []
    for entry in entries:
        if entry.isdigit():
            # CUDA numbers visible devices in its own (PCI bus) order, NVML too on every driver seen.
            index = int(entry)
            if index >= count:
                break  # CUDA ignores everything from the first invalid entry on
            chosen.append(index)
        else:
            matches = [i for i, uuid in enumerate(uuids) if uuid and (uuid == entry or uuid.startswith(entry))]
            if not matches:
                break
            chosen.append(matches[0])
    return chosen


class NvmlSampler(Sampler):
    name = "nvml"

    def __init__(self, nvml_module: Any = None) -> None:
        # Tests inject a fake module; production imports pynvml lazily so a machine without it still works.
        self._nvml = nvml_module
        self._handles: list[Any] = []
        self._indices: list[int] = []
        self._initialised = False
        self.start_watch(None)

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
            handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except nvml.NVMLError as error:
            return Probe(False, f"NVML could not list GPUs: {error}")
        if not handles:
            return Probe(False, "NVML found no GPU")
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        self._indices = visible_device_indices(nvml, count, handles, visible)
        self._handles = [handles[i] for i in self._indices]
        if not self._handles:
            return Probe(False, f"CUDA_VISIBLE_DEVICES={visible!r} names none of NVML's {count} GPU(s)")
        return Probe(True)

    def describe_devices(self) -> list[GpuDevice]:
        """Names, totals and the driver version, for run.json's environment."""
        nvml = self._nvml
        devices = []
        for index, handle in zip(self._indices, self._handles, strict=False):
            entry: GpuDevice = {"index": index}
            try:
                entry["name"] = _text(nvml.nvmlDeviceGetName(handle))
                entry["memory_total_bytes"] = int(nvml.nvmlDeviceGetMemoryInfo(handle).total)
            except nvml.NVMLError as error:
                entry["error"] = str(error)
            try:
                entry["uuid"] = _text(nvml.nvmlDeviceGetUUID(handle))
            except (nvml.NVMLError, AttributeError):
                pass
            devices.append(entry)
        return devices

    # -- per-child attribution ---------------------------------------------------------------------------
    def start_watch(self, pid: int | None) -> None:
        """Begin watching one child: whether NVML ever attributes memory to it, and what the device did."""
        self._watched_pid = pid
        self._pid_matched = False
        self._memory_unreported = False
        self._other_pids: set[int] = set()
        self._device_used_first: int | None = None
        self._device_used_max: int | None = None

    def attribution(self) -> str:
        """"available", "no GPU memory" or "unavailable: <why>" for the watched child's process memory."""
        if self._pid_matched:
            return "available"
        grew = (self._device_used_first is not None and self._device_used_max is not None
                and self._device_used_max - self._device_used_first >= ATTRIBUTION_MIN_DEVICE_GROWTH_BYTES)
        if self._memory_unreported:
            return ("unavailable: NVML lists the child's process but reports no usedGpuMemory for it "
                    "(the driver cannot attribute memory here)")
        if grew or self._other_pids:
            foreign = [pid for pid in self._other_pids if not _pid_exists(pid)]
            if foreign or _in_nested_pid_namespace():
                return ("unavailable: PID namespace: NVML reports host PIDs, which never equal the child's "
                        "PID in this container")
            if grew:
                return ("unavailable: the device's used memory grew while the child ran, but NVML lists no "
                        "process entry for it")
        return "no GPU memory"

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

    def sample(self, pid: int) -> SampleRow:
        nvml = self._nvml
        process_bytes = 0
        used_bytes = 0
        total_bytes = 0
        errors = []
        sm_clocks: list[int] = []
        throttle = None
        for index, handle in zip(self._indices, self._handles, strict=False):
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
                    if process.pid != pid:
                        if isinstance(process.pid, int):
                            self._other_pids.add(process.pid)
                    elif process.usedGpuMemory is None:
                        # The driver lists the process but cannot attribute memory (some containers, vGPUs).
                        self._memory_unreported = True
                    else:
                        self._pid_matched = True
                        process_bytes += int(process.usedGpuMemory)
            except nvml.NVMLError as error:
                errors.append(f"gpu{index} processes: {error}")
        if total_bytes:
            if self._device_used_first is None:
                self._device_used_first = used_bytes
            self._device_used_max = max(self._device_used_max or used_bytes, used_bytes)
        return {
            # Zero only means "no memory" once attribution() says so; otherwise it is "unknown".
            "gpu_process_bytes": process_bytes if (self._pid_matched or not self._memory_unreported) else None,
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


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_nested_pid_namespace() -> bool:
    """True inside a container's PID namespace (/proc/self/status lists more than one NSpid)."""
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return len(line.split()) > 2
    except OSError:
        pass
    return False
