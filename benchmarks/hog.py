"""CPU and memory-bandwidth hogs for benchmarks: busy processes that compete with a soak for the machine's cores
(and, with work="stream", for its caches and memory bandwidth).

A verdict or a latency figure that holds on a quiet machine may not hold when the child shares its cores
(CI runners, a neighbour's training job). `cpu_hogs()` starts `count` busy processes for the duration of a
`with` block and always terminates and joins them when the block ends, also on an exception or Ctrl-C:

    from hog import cpu_hogs          # by bare name: `python benchmarks/X.py` has benchmarks/ first on sys.path

    with cpu_hogs(os.cpu_count(), "constant"):
        leakhunt.soak(...)            # a benchmark's soak: _harness.soak(..., load=hog_load("cpu", count))

    with cpu_hogs(2, "ramp", duration_s=60) as hogs:   # each hog's duty cycle 0% -> 100% over 60 s
        ...                                           # hogs.started_monotonic: time.monotonic() at 0%

Modes (a hog's duty cycle d: busy for d * period_s, then asleep for (1 - d) * period_s):

- `constant`: d = 1 for the whole block (duration_s is ignored).
- `ramp`: d rises linearly from 0 to 1 over duration_s, then stays at 1.
- `start_midway`: idle (d = 0) for duration_s / 2, then d = 1.
- `stop_midway`: d = 1 for duration_s / 2, then the hog exits.

Work (what a hog does while busy):

- `spin` (default): a register-only integer loop: takes cores, touches no memory.
- `stream`: copies a STREAM_BYTES array into another, chunk after chunk (far larger than any cache, so
  every copy goes to DRAM and evicts the shared last-level cache): takes cores AND memory bandwidth, like a
  neighbour's data loader or training job. `memory_hogs(...)` is `cpu_hogs(..., work="stream")`.

Sessions: Linux groups processes by session for CPU fairness (CFS autogroup, on by default on desktops and
many servers): hogs started in the benchmark's session share one group's CPU time, and a soak child, which
runs in a session of its own, keeps a whole core against any number of them. `own_session=True` starts each
hog in a session of its own, like independent neighbour jobs, so N hogs and the child share the cores N+1
ways.

`count=0` starts nothing, so a caller can write `cpu_hogs(n if loaded else 0)` for its quiet control.
The schedule's clock starts once every hog is running (spawning takes ~0.1 s per process), and all hogs
share that start, so `started_monotonic` is the moment the load pattern begins. A hog also exits by itself
when its parent goes away (checked every period), so a hard-killed benchmark leaves no busy processes.

    python benchmarks/hog.py [--count N] [--mode ramp] [--work stream] [--duration-s 10]   # self-check
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MODES = ("constant", "start_midway", "stop_midway", "ramp")
WORKS = ("spin", "stream")
# Each streaming hog copies between two arrays of this size: together (2 x 2 x 256 MiB with two hogs) far
# larger than the 300 MiB last-level cache of the biggest hosts here, so the copies stream from DRAM.
STREAM_BYTES = 256 * 2**20
# One copy call moves this much: short enough (~0.5 ms) to check the duty cycle's clock between copies.
STREAM_CHUNK_BYTES = 8 * 2**20
# One busy/sleep cycle: short enough that a 1 ms step sees a steady share of contention, long enough that
# the sleep calls (~60 us of scheduler slack each) do not dominate at low duty cycles.
DEFAULT_PERIOD_S = 0.05
# Spawning a Python interpreter takes ~0.1-0.5 s; on an overloaded machine far longer. Past this a hog that
# has not reported ready is a bug, not a slow start.
READY_TIMEOUT_S = 60.0
# After SIGTERM a busy loop dies at once; this is only the bound before SIGKILL.
TERMINATE_GRACE_S = 5.0


@dataclass(frozen=True)
class Hogs:
    """What `cpu_hogs` started: for aligning measurements with the load pattern."""

    count: int
    mode: str
    duration_s: float | None
    period_s: float
    started_monotonic: float  # time.monotonic() when the schedule began (same clock in every process)
    pids: tuple[int, ...]

    def duty_at(self, monotonic_s: float) -> float:
        """The duty cycle every hog runs at time `monotonic_s` (0 after a stop_midway hog has exited)."""
        if self.count == 0:
            return 0.0
        duty = duty_cycle(self.mode, monotonic_s - self.started_monotonic, self.duration_s)
        return 0.0 if duty is None else duty


def duty_cycle(mode: str, elapsed_s: float, duration_s: float | None) -> float | None:
    """The busy share of a period at `elapsed_s` into the schedule; None means the hog should exit."""
    if mode == "constant":
        return 1.0
    assert duration_s is not None and duration_s > 0
    if mode == "ramp":
        return min(1.0, max(0.0, elapsed_s / duration_s))
    if mode == "start_midway":
        return 0.0 if elapsed_s < duration_s / 2 else 1.0
    if mode == "stop_midway":
        return 1.0 if elapsed_s < duration_s / 2 else None
    raise ValueError(f"unknown hog mode {mode!r}; choose one of {', '.join(MODES)}")


def _spin_until(deadline_s: float, spin: int) -> int:
    while time.monotonic() < deadline_s:
        spin = (spin * 1103515245 + 12345) & 0xFFFFFFFF  # real work, so no one optimises it away
    return spin


class _Streamer:
    """Copies a STREAM_BYTES array chunk by chunk, always on to the next chunk (the whole array cycles)."""

    def __init__(self) -> None:
        import numpy as np  # only a streaming hog needs numpy

        self._source = np.ones(STREAM_BYTES // 8, dtype=np.float64)
        self._target = np.empty_like(self._source)
        self._chunk = STREAM_CHUNK_BYTES // 8
        self._offset = 0
        self._np = np

    def run_until(self, deadline_s: float) -> None:
        while time.monotonic() < deadline_s:
            end = self._offset + self._chunk
            self._np.copyto(self._target[self._offset:end], self._source[self._offset:end])
            self._offset = 0 if end >= self._source.size else end


def _hog_main(mode: str, duration_s: float | None, period_s: float, parent_pid: int, ready, go,
              start_value, work: str = "spin", own_session: bool = False) -> None:
    # Ctrl-C reaches the whole process group; the parent decides when hogs stop (it terminates them), and a
    # KeyboardInterrupt traceback from every hog would bury the benchmark's own message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if own_session:
        os.setsid()  # a CPU-fairness group of its own (see "Sessions" in the module docstring)
    streamer = _Streamer() if work == "stream" else None  # its arrays are allocated before "ready"
    ready.set()
    if not go.wait(READY_TIMEOUT_S):
        return
    started = start_value.value
    spin = 0
    while os.getppid() == parent_pid:
        now = time.monotonic()
        duty = duty_cycle(mode, now - started, duration_s)
        if duty is None:
            return
        busy_until = now + duty * period_s
        if streamer is not None:
            streamer.run_until(busy_until)
        else:
            spin = _spin_until(busy_until, spin)
        idle_s = (1.0 - duty) * period_s
        if idle_s > 0:
            time.sleep(idle_s)


def _check(count: int, mode: str, duration_s: float | None, period_s: float, work: str = "spin") -> None:
    if work not in WORKS:
        raise ValueError(f"unknown hog work {work!r}; choose one of {', '.join(WORKS)}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if mode not in MODES:
        raise ValueError(f"unknown hog mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode != "constant" and (duration_s is None or duration_s <= 0):
        raise ValueError(f"hog mode {mode!r} needs duration_s > 0")
    if period_s <= 0:
        raise ValueError(f"period_s must be > 0, got {period_s}")


def _stop(processes: list) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + TERMINATE_GRACE_S
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


@contextlib.contextmanager
def cpu_hogs(count: int | None = None, mode: str = "constant", duration_s: float | None = None,
             period_s: float = DEFAULT_PERIOD_S, start_method: str = "spawn", work: str = "spin",
             own_session: bool = False) -> Iterator[Hogs]:
    """Run `count` (default: os.cpu_count()) busy processes for the `with` block; see the module docstring.

    `spawn` by default: the hogs then share nothing with a parent that may hold threads (samplers) or a
    TensorFlow runtime, which fork would copy in an undefined state. spawn re-imports the caller's
    __main__ in each hog, so call this from a script file under `if __name__ == "__main__":` (from stdin
    or a notebook, pass start_method="fork").
    """
    count = (os.cpu_count() or 1) if count is None else int(count)
    _check(count, mode, duration_s, period_s, work)
    if count == 0:
        yield Hogs(0, mode, duration_s, period_s, time.monotonic(), ())
        return
    # typeshed types get_context(str) as BaseContext, which lacks the Process every real context has.
    context: Any = multiprocessing.get_context(start_method)
    go = context.Event()
    start_value = context.Value("d", 0.0)
    processes: list = []
    try:
        readies = []
        for index in range(count):
            ready = context.Event()
            process = context.Process(
                target=_hog_main, name=f"{work}-hog-{index}", daemon=True,
                args=(mode, duration_s, period_s, os.getpid(), ready, go, start_value, work, own_session))
            process.start()
            processes.append(process)
            readies.append(ready)
        deadline = time.monotonic() + READY_TIMEOUT_S
        for index, (process, ready) in enumerate(zip(processes, readies, strict=True)):
            # Poll rather than wait: a hog that dies while starting (e.g. spawn cannot re-import __main__)
            # should fail the benchmark at once, not after the whole timeout.
            while not ready.wait(0.05):
                if not process.is_alive():
                    raise RuntimeError(f"cpu hog {index} exited while starting (exit code {process.exitcode})")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cpu hog {index} did not start within {READY_TIMEOUT_S:.0f} s")
        start_value.value = time.monotonic()
        go.set()
        yield Hogs(count, mode, duration_s, period_s, start_value.value,
                   tuple(process.pid for process in processes))
    finally:
        _stop(processes)


def memory_hogs(count: int | None = None, mode: str = "constant", duration_s: float | None = None,
                period_s: float = DEFAULT_PERIOD_S, start_method: str = "spawn", own_session: bool = False):
    """`cpu_hogs` whose hogs stream memory (work="stream"): they take cores and memory bandwidth."""
    return cpu_hogs(count, mode, duration_s, period_s, start_method, work="stream", own_session=own_session)


def _running(pids) -> list[int]:
    """The pids still running (not exited, not zombies waiting to be reaped)."""
    running = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            running.append(pid)
    return running


def _self_check() -> None:
    import argparse
    import resource

    parser = argparse.ArgumentParser(description="Run hogs for a while and print the CPU they used.")
    parser.add_argument("--count", type=int, default=os.cpu_count())
    parser.add_argument("--mode", choices=MODES, default="constant")
    parser.add_argument("--duration-s", type=float, default=4.0)
    parser.add_argument("--work", choices=WORKS, default="spin")
    args = parser.parse_args()
    wall_started = time.monotonic()
    with cpu_hogs(args.count, args.mode, args.duration_s, work=args.work) as hogs:
        time.sleep(args.duration_s)
        alive = len(_running(hogs.pids))
    wall_s = time.monotonic() - wall_started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = used.ru_utime + used.ru_stime
    leftover = _running(hogs.pids)
    print(f"{args.count} {args.work} hog(s), mode {args.mode}, {args.duration_s:.1f} s: hogs used {cpu_s:.2f} CPU-s "
          f"(= {cpu_s / max(args.duration_s, 1e-9) / max(args.count, 1):.0%} of {args.count} core(s) over the "
          f"schedule; wall {wall_s:.2f} s incl. start/stop); alive at the end of the block: {alive}; "
          f"left running after it: {len(leftover)}")


if __name__ == "__main__":
    _self_check()
