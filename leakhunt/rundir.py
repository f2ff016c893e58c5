"""The on-disk format of a run folder: crash-safe streaming writers and tolerant readers.

Layout (one folder per run, one sub-folder per strategy, in run order):

    run.json                      config, command line, environment, sampler availability
    strategies/NN-<slug>/
        strategy.json             the StrategySpec (name, factory, kwargs, description)
        child.json                written by the child once its workload is built (pid, images/step, ...)
        iterations.csv            one row per step (warm-up included), appended by the child
        samples.csv               one row per parent sample (RSS/USS, GPU), appended by the parent
        status.json               how the child ended (written by the parent)
        error.json                exception type/message/traceback if the workload raised
    summary.json / summary.md / report.html   derived outputs, always rebuildable from the above

Readers drop a partial last line (a crash mid-write) and use everything before it.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd  # noqa: F401  (readers return DataFrames; pandas does not import TensorFlow)

from leakhunt.errors import NotARunFolderError

RUN_META_FILE = "run.json"
STRATEGIES_DIR = "strategies"
STRATEGY_FILE = "strategy.json"
CHILD_INFO_FILE = "child.json"
ITERATIONS_FILE = "iterations.csv"
SAMPLES_FILE = "samples.csv"
STATUS_FILE = "status.json"
ERROR_FILE = "error.json"
SUMMARY_JSON_FILE = "summary.json"
SUMMARY_MD_FILE = "summary.md"
REPORT_HTML_FILE = "report.html"

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
    # The memory-streaming reference kernel's duration, read with reference_ms (columns added at the end, so
    # older run folders, which lack them, read as before).
    "reference_mem_ms",
    # With the reference kernels: the step thread's cumulative run-queue wait in seconds (Linux schedstat
    # run_delay), the time it was ready to run but a neighbour held the CPU.
    "runqueue_wait_s",
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

FLUSH_INTERVAL_S = 1.0  # crash-safety promise: data reaches the OS at least once a second


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


class CsvAppender:
    """Append-only CSV writer that flushes at most once per FLUSH_INTERVAL_S (and on close).

    Built for the child's hot loop: one string format and one buffered write per row; the flush check
    reuses the caller's clock reading instead of asking for a new one.
    """

    def __init__(self, path: Path, columns: tuple[str, ...]):
        self.path = path
        new_file = not path.exists() or path.stat().st_size == 0
        self._handle = open(path, "a", encoding="utf-8", buffering=1 << 16)
        if new_file:
            self._handle.write(",".join(columns) + "\n")
            self._handle.flush()
        self._next_flush_s = time.monotonic() + FLUSH_INTERVAL_S

    def write_line(self, line: str, now_monotonic_s: float) -> None:
        self._handle.write(line)
        if now_monotonic_s >= self._next_flush_s:
            self._handle.flush()
            self._next_flush_s = now_monotonic_s + FLUSH_INTERVAL_S

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            self._handle.close()


def format_optional(value: float | int | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def read_csv_tolerant(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV written by CsvAppender; a partial last line (crash mid-write) is dropped."""
    if not path.exists():
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.endswith("\n"):
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut >= 0 else ""
    if not text.strip():
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    frame = pd.read_csv(io.StringIO(text), on_bad_lines="skip")
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="float64")
    return frame


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
    return StrategyData(
        index=index,
        folder=folder,
        spec=_read_json_or(folder / STRATEGY_FILE, {"name": folder.name}),
        iterations=read_csv_tolerant(folder / ITERATIONS_FILE, ITERATION_COLUMNS),
        samples=read_csv_tolerant(folder / SAMPLES_FILE, SAMPLE_COLUMNS),
        status=status,
        child_info=_read_json_or(folder / CHILD_INFO_FILE, {}),
        error=_read_json_or(folder / ERROR_FILE, None),
    )
