"""--memory-limit enforced by the kernel: a memory cgroup of the child's own, where leakhunt may create one.

With a cgroup cap the child is OOM-killed by the kernel exactly as in a memory-limited container, and the
cgroup's oom_kill counter proves it. Creating one needs write access to our own memory cgroup (cgroup v1,
or v2 with the memory controller delegated); where that fails, `create` returns None and the runner falls
back to killing the child from the parent when its sampled RSS passes the cap.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from leakhunt.sampling.oom import CGROUP_ROOT, PROC_ROOT, _read_counter

_names = itertools.count()


def _own_memory_cgroup_dirs(proc_root: Path, cgroup_root: Path) -> list[tuple[str, Path]]:
    try:
        lines = (proc_root / "self" / "cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            found.append(("v1", cgroup_root / "memory" / relative))
        elif controllers == "":
            found.append(("v2", cgroup_root / relative))
    return found


class MemoryCgroup:
    def __init__(self, version: str, folder: Path, limit_bytes: int):
        self.version = version
        self.folder = folder
        self.limit_bytes = limit_bytes

    @classmethod
    def create(cls, limit_bytes: int, proc_root: Path = PROC_ROOT,
               cgroup_root: Path = CGROUP_ROOT) -> "MemoryCgroup | None":
        for version, parent in _own_memory_cgroup_dirs(proc_root, cgroup_root):
            _remove_stale(parent)
            folder = parent / f"leakhunt-{os.getpid()}-{next(_names)}"
            limit_file = "memory.limit_in_bytes" if version == "v1" else "memory.max"
            try:
                folder.mkdir()
            except OSError:
                continue
            try:
                (folder / limit_file).write_text(str(limit_bytes), encoding="utf-8")
            except OSError:
                # No such file (controller not delegated) or no permission: this cgroup cannot cap memory.
                _remove_folder(folder)
                continue
            if version == "v2":
                try:
                    (folder / "memory.swap.max").write_text("0", encoding="utf-8")  # cap RAM, not RAM + swap
                except OSError:
                    pass  # no swap controller: nothing to swap to, the cap above is already the RAM cap
            return cls(version, folder, limit_bytes)
        return None

    def add(self, pid: int) -> bool:
        try:
            (self.folder / "cgroup.procs").write_text(str(pid), encoding="utf-8")
        except OSError:
            return False
        return True

    def oom_kills(self) -> int | None:
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        return _read_counter(self.folder / name)

    def describe(self) -> str:
        return f"memory cgroup ({self.version}) capped at {self.limit_bytes} bytes"

    def remove(self) -> None:
        _remove_folder(self.folder)


def _remove_stale(parent: Path) -> None:
    """Remove empty cgroups left by an earlier leakhunt whose parent process was hard-killed."""
    try:
        candidates = list(parent.glob("leakhunt-*-*"))
    except OSError:
        return
    for folder in candidates:
        owner = folder.name.split("-")[1]
        if owner.isdigit() and int(owner) != os.getpid() and not Path(f"/proc/{owner}").exists():
            try:
                folder.rmdir()
            except OSError:
                continue  # still has a process in it, or not ours to remove: leave it


def _remove_folder(folder: Path) -> None:
    # A cgroup folder is removed with rmdir once its last process is gone, which can lag the reap a moment.
    for _ in range(50):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
