"""Repeating cases: quiet and CPU-hog conditions (benchmarks/hog.py), progress on stderr, the run folders, and
Ctrl-C keeping what already ran (hours of soaks should not vanish with one key press)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# A condition's load: quiet (nothing alongside), cpu (busy-looping hogs), mem (hogs streaming memory).
LOADS = ("quiet", "cpu", "mem")


def conditions(repeats: int, first_repeat: int = 0) -> list[tuple[int, str]]:
    """(repeat, "quiet" | "hog") per repeat, alternating and starting quiet (with an odd count the quiet runs get
    the extra one); `first_repeat` numbers them on from an earlier run (1: start with a hog repeat)."""
    return [(repeat, "hog" if repeat % 2 else "quiet") for repeat in range(first_repeat, first_repeat + repeats)]


def hog_load(load: str, count: int | None, own_session: bool = False) -> contextlib.AbstractContextManager[Any]:
    """The context a soak runs in under `load`: quiet, or `count` hogs (hog.py) that take cores ("cpu", also
    "hog") or cores and memory bandwidth ("mem"), each in a session of its own with `own_session` (independent
    neighbours; see hog.py on CFS autogroup)."""
    from hog import cpu_hogs, memory_hogs

    if load == "quiet" or count == 0:
        return contextlib.nullcontext()
    if load in ("cpu", "hog"):
        return cpu_hogs(count, "constant", own_session=own_session)
    if load == "mem":
        return memory_hogs(count, "constant", own_session=own_session)
    raise ValueError(f"unknown load {load!r}; choose one of {', '.join(LOADS)}")


def load_average_1m() -> float | None:
    """The machine's 1-minute load average (a shared machine: a quiet run is only as quiet as the neighbours)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


class Progress:
    """Timestamped progress lines on stderr (stdout is the benchmark's results), with a rough time left."""

    def __init__(self, total: int = 0):
        self.total = total
        self.done = 0
        self.started = time.monotonic()

    @staticmethod
    def say(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def finished_one(self, prefix: str = "") -> None:
        """One of `total` done: say how long so far and roughly how long is left."""
        self.done += 1
        elapsed_s = time.monotonic() - self.started
        left_s = elapsed_s / self.done * max(0, self.total - self.done)
        self.say(f"    {prefix}{elapsed_s / 60:.1f} min so far, ~{left_s / 60:.0f} min left")


@contextlib.contextmanager
def runs_folder(keep: Path | None, prefix: str, fresh: bool = True) -> Iterator[Path]:
    """Where a benchmark's run folders go: a new folder inside `keep` (`keep` itself unless `fresh`), kept; or
    a temporary one, deleted at the end."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=keep)) if fresh else keep
        return
    folder = Path(tempfile.mkdtemp(prefix=f"leakhunt-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def interruptible(what: str = "runs") -> Iterator[list[bool]]:
    """A block whose Ctrl-C ends it but not the benchmark: yields [interrupted], set when it was; the results
    of the runs that finished are then printed as partial."""
    interrupted = [False]
    try:
        yield interrupted
    except KeyboardInterrupt:
        interrupted[0] = True
        Progress.say(f"interrupted: the results below cover the {what} that finished")
