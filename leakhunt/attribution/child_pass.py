"""The attribution child: build the same workload, warm it up untracked, then run a fixed number of steps with
the trackers on, reading every site at evenly spread checkpoints (each after a full gc.collect()), and write
attribution.json (the raw series; the analysis judges them).

Run as `python -m leakhunt.attribution.child_pass attribution-task.json`. It writes only attribution.json in
the strategy's folder (its log goes to attribution.log): the verdict pass's files are never touched.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import site
import sys
import sysconfig
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leakhunt import rundir
from leakhunt.attribution.frames import CodeScope
from leakhunt.attribution.heap_witness import HeapWitness
from leakhunt.attribution.memray_capture import MemrayCapture, memray_unavailable_reason
from leakhunt.attribution.python_capture import TracemallocCapture
from leakhunt.attribution.site_series import SiteTable, code_line
from leakhunt.attribution.task import AttributionTask, checkpoint_iterations
from leakhunt.attribution.tf_evidence import FunctionWatch, GraphWatch, tensorflow_loaded
from leakhunt.sampling.self_memory import SelfMemoryReader

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import AttributionJson, CheckpointRecord, SiteEvidence, WitnessLineRecord

ATTRIBUTION_FORMAT = 1
# A site whose bytes never moved by this much between checkpoints cannot carry a slope worth reporting.
MIN_SITE_CHANGE_BYTES = 512
EXIT_FAILED = 3


def library_roots() -> tuple[str, ...]:
    """Where the standard library and installed packages live (TensorFlow, Keras, NumPy, ...)."""
    paths = sysconfig.get_paths()
    roots = {paths.get(name, "") for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    roots.add(getattr(site, "getusersitepackages", lambda: "")())
    return tuple(sorted(os.path.abspath(root) for root in roots if root))


def code_scope(task: AttributionTask, factory: Any) -> CodeScope:
    """The user's code: everything but libraries and leakhunt; a built-in strategy's classes; the factory's
    own package even when it is installed in site-packages."""
    leakhunt_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    builtin = task.spec.factory.startswith("leakhunt.strategies")
    extra: tuple[str, ...] = ()
    module = sys.modules.get(getattr(factory, "__module__", "") or "")
    module_file = getattr(module, "__file__", None)
    scope = CodeScope(library_roots(), leakhunt_root, builtin)
    if not builtin and module_file and not scope.is_user(module_file):
        top = sys.modules.get((getattr(module, "__package__", "") or "").split(".")[0])
        top_file = getattr(top, "__file__", None)
        extra = (os.path.dirname(os.path.abspath(top_file)),) if top_file else ()
    return CodeScope(library_roots(), leakhunt_root, builtin, extra)


def load_workload(task: AttributionTask) -> tuple[Any, Any]:
    """(workload, factory) as the verdict pass built it."""
    from leakhunt.workloads.custom import Workload, load_factory

    factory = load_factory(task.spec.factory)
    return Workload(factory(**task.spec.factory_kwargs), task.spec.factory), factory


class Trackers:
    """The tracker (memray, or tracemalloc where memray cannot run), the heap witness and TF's evidence."""

    def __init__(self, task: AttributionTask, scope: CodeScope, memory: SelfMemoryReader, capture_dir: Path):
        self.scope = scope
        self.memory = memory
        why_not = memray_unavailable_reason() if task.tracker == "auto" else "tracemalloc was asked for"
        self.tracker_name = "tracemalloc" if why_not else "memray"
        self.tracker_note = why_not
        self.capture: Any = TracemallocCapture() if why_not else MemrayCapture(capture_dir / "capture.bin")
        self.witness = HeapWitness(scope, memory.heap_bytes)
        tf = tensorflow_loaded()
        self.graphs = GraphWatch(tf, scope) if tf is not None else None
        self.functions = FunctionWatch(tf, scope) if tf is not None else None
        self.witness_series: dict[tuple[str, int], list[int]] = {}
        self.readings: list[CheckpointRecord] = []
        self.witness_on = False

    def start(self) -> None:
        self.capture.start()
        self.witness_on = self.witness.start()

    def checkpoint(self, iteration: int) -> None:
        if self.witness_on:
            self.witness.pause()  # collections run __del__ of user objects: not a line's growth
        gc.collect()
        self.capture.checkpoint()
        self.readings.append({"iteration": iteration, "t_monotonic_s": round(time.monotonic(), 4),
                              "rss_bytes": self.memory.rss_bytes(), "heap_bytes": self.memory.heap_bytes(),
                              "py_blocks": self.memory.python_blocks()})
        for watch in (self.graphs, self.functions):
            if watch is not None:
                watch.checkpoint()
        index = len(self.readings) - 1
        for key, charged in self.witness.charged.items():
            self.witness_series.setdefault(key, [0] * index).append(charged)
        for series in self.witness_series.values():
            if len(series) == index:
                series.append(series[-1] if series else 0)
        if self.witness_on:
            self.witness.resume()

    def stop(self) -> None:
        self.witness.stop()
        self.capture.stop()

    def results(self) -> SiteEvidence:
        table = SiteTable(self.scope, len(self.readings))
        snapshots = self.capture.read_sites(table)
        if snapshots is not None:
            for reading, snapshot in zip(self.readings, snapshots, strict=False):
                reading["snapshot"] = snapshot
        witness: list[WitnessLineRecord] = [
            {"file": key[0], "line": key[1], "function": self.witness.functions.get(key),
             "code": code_line(key[0], key[1]), "bytes": series}
            for key, series in self.witness_series.items()
            if max(series) - min(series) >= MIN_SITE_CHANGE_BYTES]
        return {"sites": table.to_json(MIN_SITE_CHANGE_BYTES), "witness_lines": witness,
                "tf_graph": [] if self.graphs is None else self.graphs.sites(),
                "tf_functions": [] if self.functions is None else self.functions.retracing()}


def _tracked_loop(task: AttributionTask, step: Any, trackers: Trackers) -> tuple[int, str]:
    """Run the tracked steps with their checkpoints; (steps done, why it stopped)."""
    marks = checkpoint_iterations(task.iterations, task.checkpoints)
    deadline_s = time.monotonic() + task.tracked_time_limit_s
    trackers.checkpoint(0)
    done = 0
    for mark in marks[1:]:
        while done < mark:
            step()
            done += 1
        trackers.checkpoint(done)
        if time.monotonic() > deadline_s and done < task.iterations:
            return done, f"stopped at {done} of {task.iterations} tracked steps: time limit"
    return done, f"ran {done} tracked steps"


def run_pass(task: AttributionTask) -> AttributionJson:
    """The whole pass; returns attribution.json's content (raises if the workload does)."""
    started_s = time.monotonic()
    workload, factory = load_workload(task)
    built_s = time.monotonic()
    for _ in range(task.warmup_steps):
        workload.step()
    warmed_s = time.monotonic()
    memory = SelfMemoryReader()
    with tempfile.TemporaryDirectory(prefix="leakhunt-attribution-") as capture_dir:
        trackers = Trackers(task, code_scope(task, factory), memory, Path(capture_dir))
        gc.collect()
        trackers.start()
        try:
            done, stop_reason = _tracked_loop(task, workload.step, trackers)
        finally:
            trackers.stop()
        tracked_s = time.monotonic()
        found = trackers.results()
    return {
        "attribution_format": ATTRIBUTION_FORMAT, "strategy": task.spec.name,
        "tracker": trackers.tracker_name, "tracker_note": trackers.tracker_note,
        "witness": "mallinfo2 per line" if trackers.witness_on else "unavailable: no mallinfo2 in this C library",
        "tensorflow": tensorflow_loaded() is not None, "warmup_steps": task.warmup_steps,
        "iterations_planned": task.iterations, "iterations": done, "stop_reason": stop_reason,
        "checkpoints": trackers.readings,
        "timing_s": {"build": round(built_s - started_s, 3), "warmup": round(warmed_s - built_s, 3),
                     "tracked": round(tracked_s - warmed_s, 3), "read": round(time.monotonic() - tracked_s, 3)},
        **found,
    }


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    from leakhunt.child.entry import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    task = AttributionTask.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    out = task.strategy_dir / rundir.ATTRIBUTION_FILE
    code = 0
    result: AttributionJson
    try:
        result = run_pass(task)
    except Exception as error:  # noqa: BLE001 - a failed pass is reported as such, the verdict stands
        result = {"attribution_format": ATTRIBUTION_FORMAT, "strategy": task.spec.name,
                  "error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
        code = EXIT_FAILED
    rundir.write_json_atomic(out, result)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # TensorFlow's teardown can take seconds or crash; everything is written


if __name__ == "__main__":
    main()
