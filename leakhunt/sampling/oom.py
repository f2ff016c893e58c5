"""The kernel's OOM-kill counter of the cgroup a child runs in, to tell an OOM kill from any other SIGKILL.

A SIGKILLed child is "likely out of memory"; when the cgroup's own counter (cgroup v2 memory.events,
v1 memory.oom_control: `oom_kill N`) rose while the child ran, it certainly was. None where no counter
can be read (no cgroup memory controller, a foreign OS): the finding then stays "likely".
"""

from __future__ import annotations

from pathlib import Path

PROC_ROOT = Path("/proc")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def _read_counter(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value)
    return None


def oom_kill_count(pid: int, proc_root: Path = PROC_ROOT, cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The OOM-kill count of `pid`'s memory cgroup, or None if it cannot be read."""
    try:
        lines = (proc_root / str(pid) / "cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        relative = path.lstrip("/")
        if controllers == "":
            count = _read_counter(cgroup_root / relative / "memory.events")  # cgroup v2
        elif "memory" in controllers.split(","):
            count = _read_counter(cgroup_root / "memory" / relative / "memory.oom_control")  # cgroup v1
        else:
            continue
        if count is not None:
            return count
    return None
