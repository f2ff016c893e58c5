"""The small interface every sampler implements: probe once, then sample a pid many times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict


class SampleRow(TypedDict, total=False):
    """One parent-side sample of a child (rundir.SAMPLE_COLUMNS): each sampler fills its own columns, the
    monitor adds the clock and the step count."""

    t_monotonic_s: float
    steps_done: int
    rss_bytes: int
    uss_bytes: int | None
    gpu_process_bytes: int | None  # None: the driver cannot attribute memory to the child
    gpu_used_bytes: int | None
    gpu_total_bytes: int | None
    nvml_error: str | None
    gpu_sm_clock_mhz: int | None  # the slowest device's SM clock
    gpu_throttle_reasons: int | None  # every device's throttle-reason bitmask, OR-ed


class GpuDevice(TypedDict, total=False):
    """One GPU NVML sees; `error` instead of name and total when NVML failed to read them. rundir.run_json
    has the same record as run.json stores it (sampling and rundir import nothing of each other)."""

    index: int
    name: str
    memory_total_bytes: int
    error: str
    uuid: str


@dataclass(frozen=True)
class Probe:
    """Whether a sampler can run here; `reason` is what the run metadata records when it cannot."""

    available: bool
    reason: str = ""

    def describe(self) -> str:
        return "available" if self.available else f"unavailable: {self.reason}"


class Sampler:
    """probe() once per run; sample(pid) returns a dict of SAMPLE_COLUMNS values (missing = None)."""

    name = "sampler"

    def probe(self) -> Probe:
        raise NotImplementedError

    def sample(self, pid: int) -> SampleRow:
        raise NotImplementedError

    def close(self) -> None:
        """Release whatever probe() acquired."""
