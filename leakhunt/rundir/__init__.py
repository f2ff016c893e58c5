"""The run folder: the one contract between soak, child, report, compare and Ray. This module holds the
layout (every file name and the child's exit codes) and the crash-safe streaming writers and tolerant readers;
its modules hold the typed records (records.py, config.py), the streamed formats (csv_stream.py,
latency_blocks.py, latency_histogram.py, legacy_rows.py) and the child's shared-memory files (progress_file.py).
May import: errors (nothing else: every side of the contract reads it, so it leans on none).

Layout (one folder per run, one sub-folder per strategy, in run order):

    run.json                      config, command line, environment, sampler availability
    strategies/NN-<slug>/
        strategy.json             the StrategySpec (name, factory, kwargs, description)
        child.json                written by the child once its workload is built (pid, images/step, ...)
        collections.csv           one row per forced full collection, memory before and after (the child)
        iterations.csv            a row per reading step, and per step for the first steps (child/latency.py)
        latency_blocks.csv        the other steps' latency, a block per ~second (latency_blocks.py; format 2)
        samples.csv               one row per parent sample (RSS/USS, GPU), appended by the parent
        status.json               how the child ended (written by the parent)
        error.json                exception type/message/traceback if the workload raised
        fault.txt                 the child's faulthandler output (a native crash's Python stack)
        attribution*.json, .log   the attribution pass, for a strategy judged `leak` (leakhunt/attribution/)
    summary.json / summary.md / report.html   derived outputs, always rebuildable from the above

Readers drop a partial last line (a crash mid-write) and use everything before it. docs/run-folder.md
describes every file and the format versions (RUN_FOLDER_FORMAT, recorded in run.json).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd  # noqa: F401  (readers return DataFrames; pandas does not import TensorFlow)

from leakhunt.errors import NotARunFolderError
from leakhunt.rundir import legacy_rows
from leakhunt.rundir.csv_stream import FLUSH_INTERVAL_S as FLUSH_INTERVAL_S
from leakhunt.rundir.csv_stream import LIVE_FLUSH_INTERVAL_S as LIVE_FLUSH_INTERVAL_S
from leakhunt.rundir.csv_stream import CsvAppender as CsvAppender
from leakhunt.rundir.csv_stream import format_optional as format_optional
from leakhunt.rundir.csv_stream import read_csv_tolerant
from leakhunt.rundir.latency_blocks import LATENCY_BLOCKS_FILE, LatencyBlocks, empty_blocks, read_latency_blocks

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import AttributionJson, AttributionStatusJson

# 1: a row of iterations.csv per step. 2: rows for the first steps and the reading steps, latency_blocks.csv for
# the rest (a folder of format 1 has no latency_blocks.csv and reads as before).
RUN_FOLDER_FORMAT = 2
RUN_META_FILE = "run.json"
STRATEGIES_DIR = "strategies"
STRATEGY_FILE = "strategy.json"
CHILD_INFO_FILE = "child.json"
ITERATIONS_FILE = "iterations.csv"
COLLECTIONS_FILE = "collections.csv"
SAMPLES_FILE = "samples.csv"
STATUS_FILE = "status.json"
ERROR_FILE = "error.json"
SUMMARY_JSON_FILE = "summary.json"
SUMMARY_MD_FILE = "summary.md"
REPORT_HTML_FILE = "report.html"
# The attribution pass (leakhunt/attribution/): a second child for a strategy judged `leak`, its files next to
# the verdict pass's. The child writes attribution.json (raw per-site series), the parent the other three.
ATTRIBUTION_FILE = "attribution.json"
ATTRIBUTION_STATUS_FILE = "attribution-status.json"
ATTRIBUTION_TASK_FILE = "attribution-task.json"
ATTRIBUTION_LOG_FILE = "attribution.log"
# faulthandler's output of the child (a segfault in native code still leaves a Python-level stack).
FAULT_FILE = "fault.txt"

# How the child ends (python -m leakhunt.child), read by the parent (harness/exit_status.py); any other code
# is a crash, a signal or an interrupt (130).
CHILD_EXIT_COMPLETED = 0
CHILD_EXIT_WORKLOAD_RAISED = 3
CHILD_EXIT_BAD_WORKLOAD = 4

# Column order of iterations.csv. `step` counts from 0 including warm-up; `phase` is "warmup" or
# "measure". Signal columns are empty on steps where they were not read (expensive ones every K steps).
ITERATION_COLUMNS = (
    "step",
    "phase",
    "start_monotonic_s",
    "latency_ms",
    "tf_current_bytes",
    "tf_peak_bytes",
    "graph_ops",
    "tracing_count",
    "gc_objects",
    # In-child readings at the end of the step, every K steps on a time budget (sampling/schedule.py):
    # the process's RSS, the C heap in use (glibc mallinfo2), Python's live blocks, and the duration of
    # the fixed machine-speed reference kernel (sampling/machine_speed.py) when it ran after this step.
    "rss_bytes",
    "heap_bytes",
    "py_blocks",
    "reference_ms",
    # The process's CPU time (all threads, time.process_time()) at the reading: against the wall clock it
    # tells how much CPU the child got, i.e. whether a slower step was starved by a busier machine.
    "process_cpu_s",
    # Automatic full (generation 2) collections Python ran since the loop started, forced ones not counted: where
    # it steps, garbage in reference cycles was freed (sampling/full_collection.py).
    "gc_auto_full_collections",
    # The memory-streaming reference kernel's duration, read with reference_ms (columns added at the end, so
    # older run folders, which lack them, read as before).
    "reference_mem_ms",
    # With the reference kernels: the step thread's cumulative run-queue wait in seconds (Linux schedstat
    # run_delay), the time it was ready to run but a neighbour held the CPU.
    "runqueue_wait_s",
    # With them, all the child's threads' cumulative CPU time and run-queue wait (schedstat, summed over
    # threads: sampling/thread_waits.py); a multi-threaded step's workers wait where its step thread blocks.
    "threads_cpu_s",
    "threads_runqueue_wait_s",
)
# Column order of collections.csv: one row per forced full collection the child ran (sampling/full_collection.py),
# with its memory read right before and right after. `reason`: baseline (the first measured iteration), milestone,
# requested (by --until-decided before a leak may settle), periodic, final (after the last step), or
# skipped-for-budget (a milestone the time budget did not allow: no readings). `auto_full_collections` counts the
# automatic ones before it; `objects_collected` is what gc.collect() returned.
COLLECTION_COLUMNS = (
    "step",
    "reason",
    "start_monotonic_s",
    "duration_s",
    "objects_collected",
    "auto_full_collections",
    "rss_before_bytes",
    "heap_before_bytes",
    "py_blocks_before",
    "tf_current_before_bytes",
    "rss_after_bytes",
    "heap_after_bytes",
    "py_blocks_after",
    "tf_current_after_bytes",
)
# Column order of samples.csv. `steps_done` is how many steps (warm-up included) the child had finished
# when the sample was taken; -1 while the workload was still being built.
SAMPLE_COLUMNS = (
    "t_monotonic_s",
    "steps_done",
    "rss_bytes",
    "uss_bytes",
    "gpu_process_bytes",
    "gpu_used_bytes",
    "gpu_total_bytes",
    "nvml_error",
    "gpu_sm_clock_mhz",
    "gpu_throttle_reasons",
)



def slugify(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    return slug[:60] or "strategy"


def strategy_dir_name(index: int, name: str) -> str:
    return f"{index:02d}-{slugify(name)}"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temp file + rename so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@dataclass
class StrategyData:
    """Everything on disk for one strategy."""

    index: int
    folder: Path
    spec: dict[str, Any]
    iterations: pd.DataFrame
    samples: pd.DataFrame
    status: dict[str, Any]
    child_info: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    collections: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {column: pd.Series(dtype="float64") for column in COLLECTION_COLUMNS}))
    attribution: AttributionJson | None = None  # attribution.json (the attribution pass's raw series)
    attribution_status: AttributionStatusJson | None = None  # attribution-status.json
    latency_blocks: LatencyBlocks = field(default_factory=empty_blocks)  # format 2: steps without a row

    @property
    def name(self) -> str:
        return self.spec.get("name", self.folder.name)


@dataclass
class RunData:
    folder: Path
    meta: dict[str, Any]
    strategies: list[StrategyData]


def is_run_folder(folder: Path) -> bool:
    return (folder / RUN_META_FILE).is_file() and (folder / STRATEGIES_DIR).is_dir()


def require_run_folder(folder: Path) -> None:
    """Raise NotARunFolderError (one clear line) unless `folder` holds a leakhunt run."""
    folder = Path(folder)
    if not folder.exists():
        raise NotARunFolderError(f"run folder not found: {folder}")
    if not is_run_folder(folder):
        raise NotARunFolderError(
            f"{folder} is not a leakhunt run folder (no {RUN_META_FILE} and {STRATEGIES_DIR}/); "
            "pass the folder that `leakhunt soak --out` created"
        )


def runs_of_side(folder: Path) -> list[Path]:
    """The run folders one side of a compare stands for: `folder` itself when it is a run folder, else the run
    folders directly inside it (repeats of one code, in name order). NotARunFolderError when it is neither."""
    if not Path(folder).exists():
        raise NotARunFolderError(f"run folder not found: {folder}")
    if is_run_folder(folder := Path(folder)):
        return [folder]
    inside = sorted(sub for sub in folder.iterdir() if sub.is_dir() and is_run_folder(sub)) if folder.is_dir() else []
    if not inside:
        raise NotARunFolderError(
            f"{folder} is neither a leakhunt run folder (no {RUN_META_FILE} and {STRATEGIES_DIR}/) nor a folder of "
            "run folders; pass a folder that `leakhunt soak --out` created, or one holding several of them")
    return inside


def read_run(folder: Path) -> RunData:
    """Load a run folder from disk. Raises NotARunFolderError (one clear line) if it is not one."""
    folder = Path(folder)
    require_run_folder(folder)
    try:
        meta = read_json(folder / RUN_META_FILE)
    except (OSError, ValueError) as error:
        raise NotARunFolderError(f"{folder / RUN_META_FILE} is unreadable: {error}") from None
    strategies = []
    for index, sub in enumerate(sorted(p for p in (folder / STRATEGIES_DIR).iterdir() if p.is_dir())):
        strategies.append(read_strategy(index, sub))
    return RunData(folder=folder, meta=meta, strategies=strategies)


def _read_json_or(path: Path, default: Any) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return default


def read_strategy(index: int, folder: Path) -> StrategyData:
    status = _read_json_or(folder / STATUS_FILE, None)
    if status is None:
        # The parent died before writing status.json: report what the data shows.
        status = {"outcome": "unknown", "description": "no status.json: the parent stopped before the child ended"}
    iterations, blocks = _read_steps(folder)
    return StrategyData(
        index=index,
        folder=folder,
        spec=_read_json_or(folder / STRATEGY_FILE, {"name": folder.name}),
        iterations=iterations,
        samples=read_csv_tolerant(folder / SAMPLES_FILE, SAMPLE_COLUMNS),
        status=status,
        child_info=_read_json_or(folder / CHILD_INFO_FILE, {}),
        error=_read_json_or(folder / ERROR_FILE, None),
        collections=read_csv_tolerant(folder / COLLECTIONS_FILE, COLLECTION_COLUMNS),
        attribution=_read_json_or(folder / ATTRIBUTION_FILE, None),
        attribution_status=_read_json_or(folder / ATTRIBUTION_STATUS_FILE, None),
        latency_blocks=blocks,
    )


def _read_steps(folder: Path) -> tuple[pd.DataFrame, LatencyBlocks]:
    """iterations.csv and latency_blocks.csv; a format-1 iterations.csv too large to hold is read in chunks and
    summarised into blocks as a format-2 child would have written them (legacy_rows.py)."""
    rows_path, blocks_path = folder / ITERATIONS_FILE, folder / LATENCY_BLOCKS_FILE
    if not blocks_path.exists() and rows_path.exists() and rows_path.stat().st_size > legacy_rows.LARGE_ROWS_BYTES:
        return legacy_rows.read_large_rows(rows_path, ITERATION_COLUMNS)
    return read_csv_tolerant(rows_path, ITERATION_COLUMNS), read_latency_blocks(blocks_path)


def steps_on_disk(folder: Path) -> int:
    """How many steps (warm-up included) the child recorded: one past the last step of its rows and blocks."""
    iterations = read_csv_tolerant(folder / ITERATIONS_FILE, ("step",))
    steps = pd.to_numeric(iterations["step"], errors="coerce").max() if "step" in iterations.columns else None
    last = -1 if steps is None or pd.isna(steps) else int(steps)
    blocks = read_latency_blocks(folder / LATENCY_BLOCKS_FILE)
    if len(blocks):
        last = max(last, int(blocks.last_step.max()))
    return last + 1
