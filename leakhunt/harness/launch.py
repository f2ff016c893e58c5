"""Start one child process and guarantee it is reaped: environment, log file, memory cgroup, Popen, and a
terminate-then-kill on the way out, whatever happened in between (a fault, Ctrl-C, an error in the parent)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from leakhunt.sampling.memcap import MemoryCgroup
from leakhunt.sampling.oom import oom_kill_count

TERMINATE_GRACE_S = 2.0  # SIGTERM first so the child can flush; SIGKILL after this
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


class LaunchedChild:
    """`with LaunchedChild(task_path, log_path, memory_limit_bytes) as child:` runs `python -m leakhunt.child`."""

    def __init__(self, task_path: Path, log_path: Path, memory_limit_bytes: int | None,
                 module: str = "leakhunt.child", extra_env: dict[str, str] | None = None):
        self.task_path = task_path
        self.module = module  # the attribution pass runs leakhunt.attribution.child_pass the same way
        self.extra_env = dict(extra_env or {})
        self.log_path = log_path
        self.memory_limit_bytes = memory_limit_bytes
        self.cgroup: MemoryCgroup | None = None
        self.process: subprocess.Popen | None = None
        self._oom_kills_before: int | None = None
        self.final_oom_kills: int | None = None  # read once the child is reaped (see __exit__)

    def __enter__(self) -> "LaunchedChild":
        env = dict(os.environ)
        # The child imports this very leakhunt, wherever the parent found it (a checkout, a worktree).
        env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.update(self.extra_env)
        # The child inherits our cgroup: its OOM-kill counter, before and after, tells an OOM kill apart.
        self._oom_kills_before = oom_kill_count(os.getpid())
        if self.memory_limit_bytes:
            self.cgroup = MemoryCgroup.create(self.memory_limit_bytes)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, str(self.task_path.resolve())],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            # Own session: a terminal Ctrl-C reaches only the parent, which then stops the child cleanly.
            start_new_session=True,
        )
        if self.cgroup is not None and not self.cgroup.add(self.process.pid):
            self.cgroup.remove()
            self.cgroup = None
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def memory_limit_method(self) -> str | None:
        if not self.memory_limit_bytes:
            return None
        return "parent RSS check" if self.cgroup is None else self.cgroup.describe()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def reap(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _oom_kills(self) -> int | None:
        """How many OOM kills happened to the child (its own cgroup's count, else ours before/after)."""
        if self.cgroup is not None:
            own = self.cgroup.oom_kills()
            if own is not None:
                return own
        after = oom_kill_count(os.getpid())
        if self._oom_kills_before is None or after is None:
            return None
        return after - self._oom_kills_before

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        try:
            self.reap()
            self.final_oom_kills = self._oom_kills()
        finally:
            self._log.close()
            if self.cgroup is not None:
                self.cgroup.remove()
