"""Synthetic run folders for `leakhunt compare`: one strategy whose steps, memory and machine are modelled.

A step needs `work_ms(iteration)` of CPU on an unloaded machine. The machine runs each cycle
`cycle_slowness` times slower (a neighbour on the other hyperthread: the reference kernels slow down by the
same factor) and lets the step thread run only `cpu_share` of the wall clock (it waits on the run queue
for the rest). The child's rows are written as the real child writes them: every step's latency, and
every READING_EVERY steps a reading row with RSS, process CPU time, both reference kernels and the
run-queue wait so far.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from leakhunt import rundir

WARMUP_STEPS = 10
READING_EVERY = 10
REFERENCE_EVERY = 40
REFERENCE_MS = 0.3
REFERENCE_MEM_MS = 0.6
RSS_START_BYTES = 500 * 2**20


def write_run(root: Path, iterations: int = 2000, cpu: str = "Test CPU", tensorflow: str = "2.21.0",
              until_decided: bool = True, host_id: str = "host-a") -> Path:
    (root / "strategies").mkdir(parents=True, exist_ok=True)
    meta = {
        "config": {"warmup_steps": WARMUP_STEPS, "iterations": iterations, "until_decided": until_decided},
        "command_line": ["leakhunt", "soak", "-w", "model.py:serve"],
        "environment": {"python": "3.11.9", "tensorflow": tensorflow, "cpu": cpu, "host_id": host_id, "gpus": []},
        "samplers": {"rss": "available", "nvml": "unavailable: no NVIDIA driver"},
        "host": {"available_memory_bytes": 8 * 2**30, "gpu_total_bytes": None},
        "started_utc": "2026-12-01T10:00:00Z", "finished_utc": "2026-12-01T10:05:00Z", "interrupted": False,
        "notes": [],
    }
    (root / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


def _reading_cells(rng, step: int, rss: float, cpu_s: float, wait_s: float, threads_wait_s: float | None,
                   slowness: float) -> str:
    """rss,heap,py_blocks,reference_ms,process_cpu_s,gc_auto_full_collections,reference_mem_ms,runqueue_wait_s,
    threads_cpu_s,threads_runqueue_wait_s of a reading row (the threads' counters only when given)."""
    cells = f"{int(rss)},,,"
    if step % REFERENCE_EVERY == 0:
        reference = REFERENCE_MS * slowness * rng.gamma(1000, 1 / 1000)
        memory = REFERENCE_MEM_MS * slowness * rng.gamma(1000, 1 / 1000)
        threads = "," if threads_wait_s is None else f"{cpu_s:.6f},{threads_wait_s:.6f}"
        return cells + f"{reference:.4f},{cpu_s:.6f},,{memory:.4f},{wait_s:.6f},{threads}"
    return cells + f",{cpu_s:.6f},,,,,"


def write_strategy(root: Path, name: str = "serve", done: int = 1000,
                   work_ms: Callable[[np.ndarray], np.ndarray] = lambda x: np.full(x.shape, 2.0),
                   leak_bytes_per_iter: float = 0.0, cycle_slowness: float = 1.0, cpu_share: float = 1.0,
                   seed: int = 0, index: int = 0,
                   growth_bytes: Callable[[np.ndarray], np.ndarray] | None = None, cpu_per_wall: float = 1.0,
                   threads_wait_fraction: float | None = None, step_thread_extra_ms: float = 0.0) -> Path:
    """One strategy that ran `done` measured iterations (plus the warm-up) on the machine described; RSS grows
    by `leak_bytes_per_iter` per iteration, or by `growth_bytes(iteration)` in all.

    A multi-threaded step: `cpu_per_wall` CPU seconds per wall second of its `work_ms` (its workers' time;
    its step thread blocks on them, never waiting for a CPU itself), plus `step_thread_extra_ms` of work on
    the step thread alone; its threads waited `threads_wait_fraction` of their runnable time (None: the
    threads' counters are not written, as in run folders from before them), which stretches the workers."""
    rng = np.random.default_rng(seed)
    folder = root / "strategies" / rundir.strategy_dir_name(index, name)
    folder.mkdir(parents=True)
    spec = {"name": name, "factory": "/home/u/model.py:serve", "factory_kwargs": {}, "description": name}
    (folder / "strategy.json").write_text(json.dumps(spec), encoding="utf-8")
    (folder / "child.json").write_text(json.dumps({"pid": 1, "images_per_step": 1}), encoding="utf-8")
    total = WARMUP_STEPS + done
    measured = np.maximum(np.arange(total) - WARMUP_STEPS, 0)
    cpu_ms = work_ms(measured.astype(float)) * cycle_slowness * rng.gamma(100, 1 / 100, total)
    latency_ms = cpu_ms / cpu_share
    step_thread_wait_ms = latency_ms - cpu_ms
    if cpu_per_wall != 1.0 or threads_wait_fraction:
        stretch = 1 / (1 - (threads_wait_fraction or 0.0))
        latency_ms = cpu_ms * stretch + step_thread_extra_ms * cycle_slowness
        cpu_ms = cpu_ms * cpu_per_wall + step_thread_extra_ms * cycle_slowness
        step_thread_wait_ms = np.zeros(total)
    starts = 100.0 + np.cumsum(np.r_[0.0, latency_ms[:-1]]) / 1000
    cpu_s = 0.5 + np.cumsum(cpu_ms) / 1000
    wait_s = np.cumsum(step_thread_wait_ms) / 1000
    fraction = threads_wait_fraction or 0.0
    threads_wait_s = None if threads_wait_fraction is None else cpu_s * fraction / (1 - fraction)
    grown = growth_bytes(measured.astype(float)) if growth_bytes is not None else leak_bytes_per_iter * measured
    rss = RSS_START_BYTES + grown + rng.normal(0, 32 * 1024, total)
    with open(folder / "iterations.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(rundir.ITERATION_COLUMNS) + "\n")
        for step in range(total):
            phase = "warmup" if step < WARMUP_STEPS else "measure"
            cells = (_reading_cells(rng, step, rss[step] // 4096 * 4096, cpu_s[step], wait_s[step],
                                    None if threads_wait_s is None else threads_wait_s[step], cycle_slowness)
                     if step % READING_EVERY == 0 else ",,,,,,,,,")
            handle.write(f"{step},{phase},{starts[step]:.6f},{latency_ms[step]:.4f},,,,,,{cells}\n")
    (folder / "samples.csv").write_text(",".join(rundir.SAMPLE_COLUMNS) + "\n", encoding="utf-8")
    status = {"outcome": "completed", "exit_code": 0, "description": "completed", "iterations_completed": done,
              "wall_time_s": float(starts[-1] - starts[0])}
    (folder / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return folder


def write_pair(root: Path, a: dict, b: dict, run_a: dict | None = None, run_b: dict | None = None) -> tuple[Path, Path]:
    """Run folders A and B with one strategy each (keyword arguments of write_strategy / write_run)."""
    folder_a = write_run(root / "a", **(run_a or {}))
    folder_b = write_run(root / "b", **(run_b or {}))
    write_strategy(folder_a, **a)
    write_strategy(folder_b, **b)
    return folder_a, folder_b
