"""Host memory of the child process via psutil: RSS (what the OS charges) and USS (what it alone owns).

RSS comes from cheap kernel counters (~10 us) and is read at every sample. USS needs the kernel to walk
the child's page tables (/proc/<pid>/smaps_rollup): ~17 ms for a 700 MB TensorFlow process, growing with
RSS, and it holds the child's mmap lock while it walks. So USS is read on a budget: at most
USS_TIME_BUDGET of wall time, i.e. about once a second for a TensorFlow child, every sample for a small one.
"""

from __future__ import annotations

import time

import psutil

from leakhunt.sampling.base import Probe, Sampler, SampleRow

# Fraction of wall time the parent may spend walking the child's page tables for USS. 2% keeps both the
# parent's CPU and the time the child's mmap lock is shared with us small.
USS_TIME_BUDGET = 0.02
_ROLLUP_PRIVATE_FIELDS = (b"Private_Clean:", b"Private_Dirty:", b"Private_Hugetlb:")


def read_uss_bytes(pid: int) -> int | None:
    """USS from /proc/<pid>/smaps_rollup (Linux >= 4.14); None where that file does not exist."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            text = handle.read()
    except ProcessLookupError:
        # The child exited between two reads (a zombie's /proc entry answers ESRCH).
        raise psutil.NoSuchProcess(pid) from None
    except FileNotFoundError:
        if not psutil.pid_exists(pid):
            raise psutil.NoSuchProcess(pid) from None
        return None
    total_kib = 0
    for line in text.splitlines():
        if line.startswith(_ROLLUP_PRIVATE_FIELDS):
            total_kib += int(line.split()[1])
    return total_kib * 1024


class RssSampler(Sampler):
    name = "rss"

    def __init__(self, uss_time_budget: float = USS_TIME_BUDGET) -> None:
        self._process: psutil.Process | None = None
        self._uss_time_budget = uss_time_budget
        self._next_uss_s = 0.0
        self._uss_source = "smaps_rollup"

    def probe(self) -> Probe:
        try:
            psutil.Process().memory_info()
        except (psutil.Error, OSError) as error:
            return Probe(False, f"psutil cannot read process memory: {error}")
        return Probe(True)

    def _uss(self, process: psutil.Process) -> int | None:
        pid = process.pid
        if self._uss_source == "smaps_rollup":
            try:
                value = read_uss_bytes(pid)
            except PermissionError:
                value = None
            if value is not None:
                return value
            self._uss_source = "psutil"
        if self._uss_source == "psutil":
            try:
                return process.memory_full_info().uss
            except psutil.AccessDenied:
                # USS needs /proc/<pid>/smaps; some containers forbid it. RSS alone is still recorded.
                self._uss_source = "none"
        return None

    def sample(self, pid: int) -> SampleRow:
        if self._process is None or self._process.pid != pid:
            self._process = psutil.Process(pid)
            self._next_uss_s = 0.0
        rss_bytes = self._process.memory_info().rss
        uss_bytes = None
        now_s = time.monotonic()
        if now_s >= self._next_uss_s and self._uss_source != "none":
            uss_bytes = self._uss(self._process)
            cost_s = time.monotonic() - now_s
            self._next_uss_s = now_s + cost_s / self._uss_time_budget
        return {"rss_bytes": rss_bytes, "uss_bytes": uss_bytes}
