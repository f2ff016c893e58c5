"""Synthetic run folders (run.json, strategies/*/iterations.csv, samples.csv, status.json) for report tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from leakhunt import rundir
from leakhunt.strategies.registry import STRATEGIES

MIB = 2**20
WARMUP_STEPS = 5
XSS = "<script>alert(1)</script>"
# name -> (memory shape, latency ms): the quickstart's picture in miniature.
DEFAULT_FOUR = {
    "tutorial": ("leak", 700.0),
    "persistent": ("flat", 48.0),
    "reset-graph": ("sawtooth", 760.0),
    "saved-model": ("flat", 53.0),
}
SAWTOOTH_PERIOD = 20
SAWTOOTH_STEP_BYTES = 30 * MIB
LEAK_BYTES_PER_ITER = 445_294  # the "+445294 B/iter": must read as KiB


def write_run(root: Path, iterations: int = 1000) -> Path:
    (root / "strategies").mkdir(parents=True, exist_ok=True)
    meta = {
        "config": {"warmup_steps": WARMUP_STEPS, "iterations": iterations, "until_decided": True},
        "command_line": ["leakhunt", "soak", "--preset", "tiny", "--iterations", str(iterations)],
        "environment": {"python": "3.11.9", "tensorflow": "2.16.1", "cpu": "Test CPU", "ram_total_bytes": 16 * 2**30,
                        "os": "Linux", "gpus": []},
        "samplers": {"rss": "available", "nvml": "unavailable: no NVIDIA driver"},
        "host": {"available_memory_bytes": 8 * 2**30, "gpu_total_bytes": None},
        "started_utc": "2026-11-27T10:00:00Z", "finished_utc": "2026-11-27T10:03:16Z", "interrupted": False,
        "notes": [],
    }
    (root / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


def level_at(shape: str, measured: np.ndarray) -> np.ndarray:
    base = {"leak": 2000 * MIB, "flat": 900 * MIB, "sawtooth": 2400 * MIB}[shape]
    if shape == "leak":
        return base + LEAK_BYTES_PER_ITER * measured
    if shape == "sawtooth":
        return base + (measured % SAWTOOTH_PERIOD) * SAWTOOTH_STEP_BYTES
    return base + np.zeros_like(measured, dtype=float)


def write_strategy(root: Path, index: int, name: str, shape: str, latency_ms: float, iterations: int = 1000,
                   builtin: str | None = None, stopped_at: int | None = None, seed: int = 0,
                   factory_kwargs: dict | None = None) -> Path:
    """One strategy with the child's end-of-step readings (RSS every step) and parent samples."""
    rng = np.random.default_rng(seed + index)
    done = stopped_at or iterations
    folder = root / "strategies" / rundir.strategy_dir_name(index, name)
    folder.mkdir(parents=True)
    key = builtin if builtin is not None else name
    if key in STRATEGIES:
        info = STRATEGIES[key]
        spec = {"name": name, "factory": "leakhunt.strategies.factory:build",
                "factory_kwargs": {"strategy": key, "preset": "tiny", "batch": 1, "resize": "none",
                                   "gpu_memory": "default", "device": None, **(factory_kwargs or {})},
                "description": info.description, "code_pattern": info.code_pattern}
    else:
        spec = {"name": name, "factory": f"/home/u/{name}.py:make", "factory_kwargs": {},
                "description": f"custom workload {name}", "code_pattern": ""}
    (folder / "strategy.json").write_text(json.dumps(spec), encoding="utf-8")
    (folder / "child.json").write_text(json.dumps({"pid": 1, "images_per_step": 1}), encoding="utf-8")
    total = WARMUP_STEPS + done
    latencies = latency_ms * rng.gamma(50, 1 / 50, total)
    starts = 100.0 + np.cumsum(np.r_[0.0, latencies[:-1]]) / 1000
    measured = np.maximum(np.arange(total) - WARMUP_STEPS, 0)
    level = level_at(shape, measured)
    rss = (level + rng.normal(0, 64 * 1024, total)) // 4096 * 4096  # pages, with allocator noise
    heap = 300 * MIB + (level - level[0]) * 0.5 + rng.integers(0, 512, total)  # bytes in use: barely noisy
    with open(folder / "iterations.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(rundir.ITERATION_COLUMNS) + "\n")
        for step in range(total):
            phase = "warmup" if step < WARMUP_STEPS else "measure"
            reference = f"{0.3 + rng.normal(0, 0.005):.4f}" if step % 25 == 0 else ""
            handle.write(f"{step},{phase},{starts[step]:.6f},{latencies[step]:.4f},,,,,,"
                         f"{int(rss[step])},{int(heap[step])},{150000 + int(rng.integers(0, 50))},{reference}\n")
    with open(folder / "samples.csv", "w", encoding="utf-8") as handle:
        handle.write(",".join(rundir.SAMPLE_COLUMNS) + "\n")
        handle.write(f"{starts[0] - 1:.3f},-1,{100 * MIB},{90 * MIB},,,,,,\n")
        for step in range(total):
            value = int(rss[step])
            if shape == "leak" and step % 37 == 0:
                value -= 700 * MIB  # the tutorial's one-second dips: must not set any scale
            handle.write(f"{starts[step] + latencies[step] / 2000:.3f},{step},{value},{int(value * 0.9)},,,,,,\n")
    status = {"outcome": "completed", "exit_code": 0, "signal": None, "signal_name": None,
              "description": "completed", "steps_completed": total, "iterations_completed": done,
              "warmup_completed": WARMUP_STEPS, "wall_time_s": float(starts[-1] - starts[0]),
              "memory_limit_hit": False}
    if stopped_at is not None:
        status.update(stopped_early=True,
                      stop_reason=f"settled after {stopped_at} of {iterations} iterations: leak at the 99.9% level")
    (folder / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return folder


def write_default_four(root: Path, iterations: int = 1000, names: dict[str, str] | None = None) -> Path:
    write_run(root, iterations)
    for index, (builtin, (shape, latency)) in enumerate(DEFAULT_FOUR.items()):
        write_strategy(root, index, (names or {}).get(builtin, builtin), shape, latency, iterations,
                       builtin=builtin, stopped_at=400 if shape == "leak" else None)
    return root
