"""Host memory of the child process via psutil: RSS (what the OS charges) and USS (what it alone owns)."""

from __future__ import annotations

from typing import Any

import psutil

from leakhunt.sampling.base import Probe, Sampler


class RssSampler(Sampler):
    name = "rss"

    def __init__(self) -> None:
        self._process: psutil.Process | None = None
        self._uss_supported = True

    def probe(self) -> Probe:
        try:
            psutil.Process().memory_info()
        except (psutil.Error, OSError) as error:
            return Probe(False, f"psutil cannot read process memory: {error}")
        return Probe(True)

    def sample(self, pid: int) -> dict[str, Any]:
        if self._process is None or self._process.pid != pid:
            self._process = psutil.Process(pid)
        process = self._process
        if self._uss_supported:
            try:
                full = process.memory_full_info()
                return {"rss_bytes": full.rss, "uss_bytes": full.uss}
            except psutil.AccessDenied:
                # USS needs /proc/<pid>/smaps; some containers forbid it. Fall back to RSS only.
                self._uss_supported = False
        return {"rss_bytes": process.memory_info().rss, "uss_bytes": None}
