"""Run folders of format 2 (rows for the first steps and the reading steps, latency blocks for the rest), written
by the child's real LatencyRecorder from synthetic step times: the long-soak tests' known answers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from helpers.run_folder import write_run
from leakhunt import rundir
from leakhunt.child.latency import LatencyRecorder
from leakhunt.sampling.schedule import MAX_STEPS_PER_READING

MIB = 2**20
LOOP_GAP_S = 2e-6  # the loop's own time between two steps


def drive_recorder(folder: Path, latencies_ms: np.ndarray, warmup_steps: int, reading_every: int,
                   start_s: float = 1000.0, rss_bytes=None, planned_duration_s: float | None = None,
                   planned_steps: int | None = None) -> float:
    """Feed a strategy folder's iterations.csv and latency_blocks.csv through the child's recorder as the loop
    does: a reading row every `reading_every` steps, every other step to the recorder. Returns the end time."""
    writer = rundir.CsvAppender(folder / rundir.ITERATIONS_FILE, rundir.ITERATION_COLUMNS)
    padding = "," * (len(rundir.ITERATION_COLUMNS) - 4)
    recorder = LatencyRecorder(folder, writer.write_line, padding, warmup_steps, MAX_STEPS_PER_READING,
                               planned_steps or len(latencies_ms), planned_duration_s)
    durations_s = np.asarray(latencies_ms, dtype=float) / 1e3
    now = start_s
    for step, duration_s in enumerate(durations_s.tolist()):
        started, finished = now, now + duration_s
        if step % reading_every == 0:
            phase = "warmup" if step < warmup_steps else "measure"
            rss = 500 * MIB if rss_bytes is None else int(rss_bytes(step))
            writer.write_line(f"{step},{phase},{started:.6f},{duration_s * 1e3:.4f},,,,,,{rss},{300 * MIB},"
                              f"150000,{0.3:.4f},{started - start_s:.6f}\n", finished)
            recorder.after_reading(step, started, finished + LOOP_GAP_S)
        else:
            recorder.record(step, started, finished)
        now = finished + LOOP_GAP_S
    recorder.close(len(durations_s), now)
    writer.close()
    return now


def write_block_strategy(root: Path, index: int, name: str, latencies_ms: np.ndarray, warmup_steps: int,
                         reading_every: int = 50) -> Path:
    """One completed strategy with flat memory and the given per-step latencies (warm-up included)."""
    folder = root / "strategies" / rundir.strategy_dir_name(index, name)
    folder.mkdir(parents=True)
    (folder / "strategy.json").write_text(json.dumps({"name": name, "factory": f"/home/u/{name}.py:make"}))
    (folder / "child.json").write_text(json.dumps({"pid": 1, "images_per_step": 1}))
    end_s = drive_recorder(folder, latencies_ms, warmup_steps, reading_every)
    with open(folder / rundir.SAMPLES_FILE, "w", encoding="utf-8") as handle:
        handle.write(",".join(rundir.SAMPLE_COLUMNS) + "\n")
        for second, t in enumerate(np.arange(1000.0, end_s, 0.5)):
            steps = int(len(latencies_ms) * (t - 1000.0) / (end_s - 1000.0))
            handle.write(f"{t:.3f},{steps},{500 * MIB + 4096 * (second % 2)},{400 * MIB},,,,,,\n")
    total = len(latencies_ms)
    status = {"outcome": "completed", "exit_code": 0, "description": "completed", "steps_completed": total,
              "iterations_completed": total - warmup_steps, "warmup_completed": warmup_steps,
              "wall_time_s": end_s - 1000.0, "memory_limit_hit": False}
    (folder / "status.json").write_text(json.dumps(status))
    return folder


def write_block_run(root: Path, strategies: dict[str, np.ndarray], warmup_steps: int,
                    reading_every: int = 50) -> Path:
    write_run(root, iterations=max(len(v) for v in strategies.values()) - warmup_steps)
    meta = json.loads((root / "run.json").read_text())
    meta["config"]["warmup_steps"] = warmup_steps
    (root / "run.json").write_text(json.dumps(meta))
    for index, (name, latencies) in enumerate(strategies.items()):
        write_block_strategy(root, index, name, latencies, warmup_steps, reading_every)
    return root
