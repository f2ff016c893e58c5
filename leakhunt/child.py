"""The child process: build one workload, warm it up, loop, and stream one record per step to disk.

This is the only place TensorFlow runs during a soak, and its loop is the hottest path in leakhunt:
per step it takes two clock readings, one mmap write and one buffered CSV line. Every K steps (K on a
time budget, sampling/schedule.py) it reads itself at the end of the step: RSS, C heap, Python blocks, the
TF allocator; the most expensive signals (graph op count, gc objects) and the machine-speed reference
each run on a time budget of their own.

Run as `python -m leakhunt.child TASK.json`. Exit codes are read by the runner (see CHILD_EXIT_*).
"""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from leakhunt import rundir
from leakhunt.config import ChildTask
from leakhunt.errors import WorkloadError
from leakhunt.progress_file import PROGRESS_FILE, STOP_FILE, ProgressFile, StopFlag
from leakhunt.sampling.machine_speed import MachineSpeedReference
from leakhunt.sampling.schedule import ReadingSchedule
from leakhunt.sampling.self_memory import SelfMemoryReader

CHILD_EXIT_COMPLETED = 0
CHILD_EXIT_WORKLOAD_RAISED = 3
CHILD_EXIT_BAD_WORKLOAD = 4

FAULT_FILE = "fault.txt"
# Fraction of wall time the child may spend on expensive signals (gc.get_objects() walks every object:
# tens of ms with TensorFlow loaded). 0.5% keeps the profiler's own cost far below what it measures.
EXPENSIVE_SIGNAL_BUDGET = 0.005
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL us if the parent dies, so a hard-killed parent leaves no orphan running."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the parent's own reaping still applies
    if os.getppid() == 1:
        os._exit(1)


def _write_error(strategy_dir: Path, error: BaseException, phase: str, step: int | None) -> None:
    rundir.write_json_atomic(
        strategy_dir / rundir.ERROR_FILE,
        {
            "type": type(error).__name__,
            "message": str(error),
            "phase": phase,
            "step": step,
            "traceback": traceback.format_exc(),
        },
    )


class _SignalReader:
    """Reads in-process signals at a reading step; knows which exist (TF loaded? workload evidence?)."""

    def __init__(self, workload: Any):
        self._workload = workload
        self._tf_memory_info = None
        self.memory = SelfMemoryReader()
        self.reference = MachineSpeedReference()
        tf = sys.modules.get("tensorflow")
        if tf is not None:
            try:
                tf.config.experimental.get_memory_info("CPU:0")
                self._tf_memory_info = tf.config.experimental.get_memory_info
                gpus = tf.config.list_logical_devices("GPU")
                self._tf_device = "GPU:0" if gpus else "CPU:0"
            except (ValueError, AttributeError, RuntimeError):
                self._tf_memory_info = None
        # Each expensive signal has its own budget clock: the workload's evidence (an op count, ~0.1 ms) must
        # not be read as rarely as gc.get_objects() (tens of ms with TensorFlow loaded).
        self._next_evidence_s = 0.0
        self._next_gc_s = 0.0

    def memory_cells(self) -> str:
        """tf_current,tf_peak,...: the cheap readings every reading step takes, as CSV cells."""
        tf_current = tf_peak = ""
        if self._tf_memory_info is not None:
            info = self._tf_memory_info(self._tf_device)
            tf_current, tf_peak = str(info["current"]), str(info["peak"])
        rss = self.memory.rss_bytes()
        heap = self.memory.heap_bytes()
        return (f"{tf_current},{tf_peak}", f"{'' if rss is None else rss},{'' if heap is None else heap},"
                f"{self.memory.python_blocks()}")

    def expensive(self, now_s: float) -> str:
        """graph_ops,tracing_count,gc_objects cells; each read only when its own time budget allows."""
        graph_ops = tracing_count = gc_objects = ""
        if now_s >= self._next_evidence_s:
            started_s = time.monotonic()
            evidence = self._workload.evidence()
            finished_s = time.monotonic()
            self._next_evidence_s = finished_s + (finished_s - started_s) / EXPENSIVE_SIGNAL_BUDGET
            if evidence.get("graph_ops") is not None:
                graph_ops = str(int(evidence["graph_ops"]))
            if evidence.get("tracing_count") is not None:
                tracing_count = str(int(evidence["tracing_count"]))
        if now_s >= self._next_gc_s:
            started_s = time.monotonic()
            gc_objects = str(len(gc.get_objects()))
            finished_s = time.monotonic()
            self._next_gc_s = finished_s + (finished_s - started_s) / EXPENSIVE_SIGNAL_BUDGET
        return f"{graph_ops},{tracing_count},{gc_objects}"

    def reference_cell(self, now_s: float) -> str:
        return f"{self.reference.measure_ms():.4f}" if self.reference.due(now_s) else ""


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


def _child_info(workload: Any, build_time_s: float) -> dict[str, Any]:
    tf = sys.modules.get("tensorflow")
    child_info: dict[str, Any] = {
        "pid": os.getpid(),
        "images_per_step": workload.images_per_step,
        "build_time_s": round(build_time_s, 4),
        "tensorflow_loaded": tf is not None,
        "notes": workload.notes,
    }
    if tf is not None:
        child_info["tf_version"] = getattr(tf, "__version__", None)
        try:
            build_info = dict(tf.sysconfig.get_build_info())
            child_info["cuda_version"] = build_info.get("cuda_version")
            child_info["cudnn_version"] = build_info.get("cudnn_version")
        except (AttributeError, RuntimeError):
            child_info["cuda_version"] = None
        child_info["tf_gpus"] = [d.name for d in tf.config.list_logical_devices("GPU")]
    return child_info


class _StepLoop:
    """The measured loop: one clocked step, one CSV line; every K steps the child's own readings."""

    def __init__(self, task: ChildTask, workload: Any, progress: ProgressFile):
        self.task = task
        self.workload = workload
        self.progress = progress
        self.signals = _SignalReader(workload)
        self.total_steps = task.warmup_steps + task.iterations
        self.schedule = ReadingSchedule(self.total_steps, task.signal_every_steps)
        self.writer = rundir.CsvAppender(task.strategy_dir / rundir.ITERATIONS_FILE, rundir.ITERATION_COLUMNS)
        stop_path = task.strategy_dir / STOP_FILE
        self.stop_flag = StopFlag(stop_path) if stop_path.exists() else None
        self.stopped_early = False
        self.reading_cost_s = 0.0
        self.step = 0

    def _reading_row(self, step: int, phase: str, started_s: float, finished_s: float) -> str:
        """The full row of a reading step; the readings come right after the step, always in this order.

        Sets self.reading_cost_s to what the memory readings alone cost: the expensive signals and the
        reference run on time budgets of their own and must not stretch K.
        """
        signals = self.signals
        tf_cells, memory_cells = signals.memory_cells()
        self.reading_cost_s = time.monotonic() - finished_s
        expensive_cells = signals.expensive(finished_s)
        reference = signals.reference_cell(finished_s)
        return (f"{step},{phase},{started_s:.6f},{(finished_s - started_s) * 1e3:.4f},"
                f"{tf_cells},{expensive_cells},{memory_cells},{reference},{time.process_time():.6f}\n")

    def run(self) -> None:
        """Run warm-up and measured steps; self.step is how many were done if the workload raises."""
        task = self.task
        step_fn = self.workload.step
        monotonic = time.monotonic
        mark = self.progress.mark_step_start
        write_line = self.writer.write_line
        warmup_steps = task.warmup_steps
        deadline_s = None if task.duration_s is None else monotonic() + task.duration_s
        try:
            self.step = self._loop(step_fn, mark, write_line, warmup_steps, deadline_s)
        except BaseException:
            # The step the workload raised in (or Ctrl-C reached) is how many were done; the loop published
            # it at that step's start, so the hot loop itself needs no attribute writes.
            self.step = max(self.progress.read()[0], 0)
            raise
        mark(self.step, monotonic())

    def _loop(self, step_fn, mark, write_line, warmup_steps: int, deadline_s: float | None) -> int:
        """The hot loop; returns how many steps were done. Locals only per step: no attribute writes."""
        monotonic = time.monotonic
        next_reading = 0
        last_reading_end_s = monotonic()
        last_reading_step = -1
        step = 0
        for step in range(self.total_steps):
            started_s = monotonic()
            if deadline_s is not None and started_s >= deadline_s:
                break
            mark(step, started_s)
            step_fn()
            finished_s = monotonic()
            if step >= next_reading:
                phase = "warmup" if step < warmup_steps else "measure"
                write_line(self._reading_row(step, phase, started_s, finished_s), finished_s)
                reading_end_s = monotonic()
                next_reading = self.schedule.next_step(
                    step, self.reading_cost_s, finished_s - last_reading_end_s, step - last_reading_step)
                last_reading_end_s, last_reading_step = reading_end_s, step
                if self.stop_flag is not None and self.stop_flag.stop_requested():
                    # The parent judged the verdict settled (--until-decided): end as if this were the last.
                    self.stopped_early = True
                    return step + 1
            else:
                write_line(
                    f"{step},{'warmup' if step < warmup_steps else 'measure'},{started_s:.6f},"
                    f"{(finished_s - started_s) * 1e3:.4f},,,,,,,,,,\n",
                    finished_s,
                )
        else:
            step = self.total_steps
        return step

    def close(self) -> None:
        self.writer.close()
        self.signals.memory.close()
        if self.stop_flag is not None:
            self.stop_flag.close()


def run_task(task: ChildTask) -> int:
    strategy_dir = task.strategy_dir
    progress = ProgressFile(strategy_dir / PROGRESS_FILE)
    workload, build = _load_workload(task)
    if workload is None:
        return int(build)
    child_info = _child_info(workload, float(build))
    loop = _StepLoop(task, workload, progress)
    child_info["unavailable"] = dict(loop.signals.memory.unavailable)
    rundir.write_json_atomic(strategy_dir / rundir.CHILD_INFO_FILE, child_info)
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
    child_info["reading_every_steps_last"] = loop.schedule.every
    child_info["stopped_early"] = loop.stopped_early
    if task.final_linger_s > 0:
        time.sleep(task.final_linger_s)  # let the parent sample the final state before close() frees it
    child_info["close_started_monotonic_s"] = time.monotonic()
    rundir.write_json_atomic(strategy_dir / rundir.CHILD_INFO_FILE, child_info)
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
    _die_with_parent()
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


if __name__ == "__main__":
    main()
