"""The child's own memory, read at the end of a step: RSS, the C heap in use, and Python's live blocks.

These readings are what "bytes per iteration" means: each is taken at the same point of the loop, so
a series of them is free of the phase noise a steady-clock sampler sees (the peak inside one step, the
dip between two). Each costs microseconds, so the loop can afford them every K steps (see schedule.py).

- RSS: resident pages from /proc/self/statm, through a file descriptor kept open (one pread).
- C heap: glibc's mallinfo2() (bytes in use in every arena plus mmapped chunks). It moves in bytes, not
  pages, so a 256 B/iter native leak is a clean line long before RSS shows it. Where the C library has no
  mallinfo2 (musl, macOS, glibc < 2.33) the reading is absent and `unavailable` says why, once.
- Python blocks: sys.getallocatedblocks(), the count of live blocks of Python's own allocator
  (small objects never reach malloc, so the C heap cannot see them).
"""

from __future__ import annotations

import ctypes
import os
import sys

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _MallInfo2(ctypes.Structure):
    # glibc >= 2.33: struct mallinfo2, every field a size_t (the old mallinfo's ints wrap above 2 GiB).
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]


def _load_mallinfo2():
    """The mallinfo2 function, or (None, why not)."""
    try:
        libc = ctypes.CDLL(None)
        function = libc.mallinfo2
    except (OSError, AttributeError):
        return None, "no mallinfo2() in this C library (glibc >= 2.33 has it)"
    function.restype = _MallInfo2
    function.argtypes = []
    return function, None


class SelfMemoryReader:
    """Reads this process's RSS, C heap in use and Python block count; each costs a few microseconds."""

    def __init__(self) -> None:
        self.unavailable: dict[str, str] = {}
        try:
            self._statm_fd: int | None = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError as error:
            self._statm_fd = None
            self.unavailable["rss"] = f"/proc/self/statm cannot be read: {error.strerror}"
        self._mallinfo2, why = _load_mallinfo2()
        if why:
            self.unavailable["heap"] = why

    def rss_bytes(self) -> int | None:
        if self._statm_fd is None:
            return None
        fields = os.pread(self._statm_fd, 128, 0).split()
        return int(fields[1]) * _PAGE_BYTES

    def heap_bytes(self) -> int | None:
        if self._mallinfo2 is None:
            return None
        info = self._mallinfo2()
        return int(info.uordblks + info.hblkhd)

    @staticmethod
    def python_blocks() -> int:
        return sys.getallocatedblocks()

    def close(self) -> None:
        if self._statm_fd is not None:
            os.close(self._statm_fd)
            self._statm_fd = None
