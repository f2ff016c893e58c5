"""A 16-byte shared file through which the child tells the parent, at ~zero cost, how far it got.

Layout: int64 steps_done, float64 start of the current step (time.monotonic(), system-wide on Linux).
The child writes it with struct.pack_into on a MAP_SHARED mmap (no syscall per step); the parent reads it
at every sample, which maps samples to iterations exactly and detects hung steps. The data survives a
SIGKILL of the child because it lives in the page cache, not in the child.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

PROGRESS_FILE = "progress.bin"
_LAYOUT = struct.Struct("<qd")
NOT_STARTED = -1


class ProgressFile:
    def __init__(self, path: Path, create: bool = False):
        if create:
            with open(path, "wb") as handle:
                handle.write(_LAYOUT.pack(NOT_STARTED, 0.0))
        self._file = open(path, "r+b")
        self._map = mmap.mmap(self._file.fileno(), _LAYOUT.size)

    def mark_step_start(self, steps_done: int, start_monotonic_s: float) -> None:
        _LAYOUT.pack_into(self._map, 0, steps_done, start_monotonic_s)

    def read(self) -> tuple[int, float]:
        steps_done, step_start_s = _LAYOUT.unpack_from(self._map, 0)
        return steps_done, step_start_s

    def close(self) -> None:
        self._map.close()
        self._file.close()


STOP_FILE = "stop.bin"
# int64 stop (0/1), int64 full collections asked for so far (the child serves each once, on its budget).
_STOP_LAYOUT = struct.Struct("<qq")


class StopFlag:
    """A 16-byte shared file through which the parent talks to the running child (`--until-decided`): ask it to
    end its loop, or to run a forced full collection at its next reading step (a leak may settle only once its
    growth survived one: sampling/full_collection.py).

    Reading the stop word is one unpack from a shared mapping (~0.2 us); the child does it every step, or every
    ~1 ms of steps when steps are shorter than that, so it stops within milliseconds of being asked, then ends as
    if it had reached its last iteration (linger, close()).
    """

    def __init__(self, path: Path, create: bool = False):
        if create:
            with open(path, "wb") as handle:
                handle.write(_STOP_LAYOUT.pack(0, 0))
        self._file = open(path, "r+b")
        self._map = mmap.mmap(self._file.fileno(), _STOP_LAYOUT.size)

    def request_stop(self) -> None:
        _STOP_LAYOUT.pack_into(self._map, 0, 1, self.collections_requested())

    def stop_requested(self) -> bool:
        return _STOP_LAYOUT.unpack_from(self._map, 0)[0] != 0

    def request_collection(self) -> None:
        stop, requested = _STOP_LAYOUT.unpack_from(self._map, 0)
        _STOP_LAYOUT.pack_into(self._map, 0, stop, requested + 1)

    def collections_requested(self) -> int:
        return int(_STOP_LAYOUT.unpack_from(self._map, 0)[1])

    def close(self) -> None:
        self._map.close()
        self._file.close()
