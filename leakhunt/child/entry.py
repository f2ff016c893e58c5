"""The child process: build one workload, warm it up, loop, and stream one record per step to disk.

This is the only place TensorFlow runs during a soak, and its loop is the hottest path in leakhunt:
per step it takes two clock readings, one mmap write and one buffered CSV line. Every K steps (K on a
time budget, sampling/schedule.py) it reads itself at the end of the step: RSS, C heap, Python blocks, the
TF allocator; the most expensive signals (graph op count, gc objects) and the machine-speed reference
each run on a time budget of their own.

The loop lives in loop.py, the child's readings of itself in readings.py.

Run as `python -m leakhunt.child TASK.json` (__main__.py). Its exit codes (rundir.CHILD_EXIT_*) are read by the
parent (harness/exit_status.py).
"""

from __future__ import annotations

import ctypes
import dataclasses
import faulthandler
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from leakhunt import rundir
from leakhunt.child.loop import StepLoop
from leakhunt.errors import WorkloadError
from leakhunt.rundir import CHILD_EXIT_BAD_WORKLOAD, CHILD_EXIT_COMPLETED, CHILD_EXIT_WORKLOAD_RAISED, FAULT_FILE
from leakhunt.rundir.config import ChildTask
from leakhunt.rundir.progress_file import PROGRESS_FILE, ProgressFile
from leakhunt.rundir.records import ChildInfo, ErrorRecord

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL us if the parent dies, so a hard-killed parent leaves no orphan running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the parent's own reaping still applies
    if os.getppid() == 1:
        os._exit(1)


def _write_error(strategy_dir: Path, error: BaseException, phase: str, step: int | None) -> None:
    """error.json for the exception being handled (called inside its `except` block)."""
    rundir.write_json_atomic(strategy_dir / rundir.ERROR_FILE, ErrorRecord.from_exception(error, phase, step).to_json())


def _load_workload(task: ChildTask):
    """(workload, build seconds) or (None, exit code) with error.json written."""
    from leakhunt.workloads.custom import Workload, load_factory

    strategy_dir = task.strategy_dir
    build_started_s = time.monotonic()
    try:
        factory = load_factory(task.spec.factory)
    except WorkloadError as error:
        _write_error(strategy_dir, error, "import", None)
        return None, CHILD_EXIT_BAD_WORKLOAD
    except Exception as error:  # noqa: BLE001 - any import failure of user code is reported, not raised
        _write_error(strategy_dir, WorkloadError(f"workload {task.spec.factory} cannot be imported: "
                                                 f"{type(error).__name__}: {error}"), "import", None)
        return None, CHILD_EXIT_BAD_WORKLOAD
    try:
        built = factory(**task.spec.factory_kwargs)
    except Exception as error:  # noqa: BLE001 - a factory that raises is a finding for the report
        _write_error(strategy_dir, error, "build", None)
        return None, CHILD_EXIT_WORKLOAD_RAISED
    try:
        workload = Workload(built, task.spec.factory)
    except WorkloadError as error:
        _write_error(strategy_dir, error, "build", None)
        return None, CHILD_EXIT_BAD_WORKLOAD
    return workload, time.monotonic() - build_started_s


def _child_info(workload: Any, build_time_s: float) -> ChildInfo:
    """child.json once the workload is built; TensorFlow's versions and GPUs when the workload loaded it."""
    info = ChildInfo(pid=os.getpid(), images_per_step=workload.images_per_step, build_time_s=round(build_time_s, 4),
                     notes=tuple(workload.notes))
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return info
    try:
        build_info = dict(tf.sysconfig.get_build_info())
    except (AttributeError, RuntimeError):
        build_info = {}
    return dataclasses.replace(info, tensorflow_loaded=True, tf_version=getattr(tf, "__version__", None),
                               cuda_version=build_info.get("cuda_version"),
                               cudnn_version=build_info.get("cudnn_version"),
                               tf_gpus=tuple(d.name for d in tf.config.list_logical_devices("GPU")))


def run_task(task: ChildTask) -> int:
    strategy_dir = task.strategy_dir
    progress = ProgressFile(strategy_dir / PROGRESS_FILE)
    workload, build = _load_workload(task)
    if workload is None:
        return int(build)
    child_info = _child_info(workload, float(build))
    loop = StepLoop(task, workload, progress)
    child_info = dataclasses.replace(child_info, unavailable=dict(loop.signals.memory.unavailable))
    rundir.write_json_atomic(strategy_dir / rundir.CHILD_INFO_FILE, child_info.to_json())
    gc.collect()  # a clean baseline: garbage from the build is not charged to the first iterations
    try:
        loop.run()
    except Exception as error:  # noqa: BLE001 - the workload raising is a finding: keep data, report it
        progress.mark_step_start(loop.step, time.monotonic())
        loop.close()
        _write_error(strategy_dir, error, "step", loop.step)
        return CHILD_EXIT_WORKLOAD_RAISED
    except KeyboardInterrupt:
        progress.mark_step_start(loop.step, time.monotonic())
        loop.close()
        return 130
    loop.close()
    if task.final_linger_s > 0:
        time.sleep(task.final_linger_s)  # let the parent sample the final state before close() frees it
    child_info = dataclasses.replace(child_info, reading_every_steps_last=loop.schedule.every,
                                     stopped_early=loop.stopped_early, close_started_monotonic_s=time.monotonic(),
                                     loop_ended_monotonic_s=loop.loop_ended_s)
    rundir.write_json_atomic(strategy_dir / rundir.CHILD_INFO_FILE, child_info.to_json())
    try:
        workload.close()
    except Exception as error:  # noqa: BLE001 - a failing close() is reported, the data is already safe
        _write_error(strategy_dir, error, "close", loop.step)
        return CHILD_EXIT_WORKLOAD_RAISED
    return CHILD_EXIT_COMPLETED


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    # The parent stops a child with SIGTERM (Ctrl-C, errors): unwind like Ctrl-C so the last rows are flushed.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    die_with_parent()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    task = ChildTask.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    # A segfault in native code still leaves a Python-level stack for the report.
    fault_handle = open(task.strategy_dir / FAULT_FILE, "w", encoding="utf-8")
    faulthandler.enable(file=fault_handle)
    code = run_task(task)
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit skips interpreter teardown: TensorFlow's can take seconds or crash, and we are done.
    os._exit(code)
