"""Report scale: render time and size for 8 strategies x 5000 iterations, and the parent's memory on a
100,000-iteration soak.

Part 1 writes a synthetic run folder (8 strategies x 5000 iterations, 10 Hz samples at ~20 ms per
iteration) and times `build_outputs` (summary.json + summary.md + report.html), then prints the sizes.
Part 2 runs a real `leakhunt soak` of 100,000 fast iterations and samples the *parent's* RSS from outside
(psutil, 20 Hz) to show it stays bounded while the child streams to disk and while the report is built.

    python benchmarks/report_scale.py [--big-iterations 100000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from _harness import WORKLOADS, leakhunt_command, read_json, text_table

STRATEGY_COUNT = 8
ITERATIONS = 5000
ITERATION_TIME_S = 0.02
SAMPLE_INTERVAL_S = 0.1


def write_synthetic_run(folder: Path) -> None:
    from leakhunt import rundir
    from leakhunt.rundir.config import RunConfig, StrategySpec

    rng = np.random.default_rng(0)
    specs = [StrategySpec(f"strategy-{index}", "synthetic:none", description=f"synthetic strategy {index}")
             for index in range(STRATEGY_COUNT)]
    config = RunConfig(attribute="off", strategies=tuple(specs), out_dir=folder, iterations=ITERATIONS, warmup_steps=0,
                       until_decided=False)
    (folder / "strategies").mkdir(parents=True)
    rundir.write_json_atomic(folder / "run.json", {
        "config": config.to_json(), "command_line": ["leakhunt", "soak", "(synthetic)"],
        "environment": {"python": sys.version.split()[0]},
        "samplers": {"rss": "available", "nvml": "unavailable: synthetic"},
        "host": {"available_memory_bytes": 16 * 2**30, "gpu_total_bytes": None},
        "started_utc": "2026-01-01T00:00:00Z", "finished_utc": "2026-01-01T01:00:00Z", "interrupted": False,
        "notes": [],
    })
    for index, spec in enumerate(specs):
        strategy_dir = folder / "strategies" / rundir.strategy_dir_name(index, spec.name)
        strategy_dir.mkdir()
        rundir.write_json_atomic(strategy_dir / "strategy.json", spec.to_json())
        rundir.write_json_atomic(strategy_dir / "child.json", {"pid": 1, "images_per_step": 1})
        starts = np.cumsum(rng.normal(ITERATION_TIME_S, 0.002, ITERATIONS))
        latencies = rng.gamma(20, ITERATION_TIME_S * 1e3 / 20, ITERATIONS)
        with open(strategy_dir / "iterations.csv", "w") as handle:
            handle.write(",".join(rundir.ITERATION_COLUMNS) + "\n")
            for step in range(ITERATIONS):
                extra = f",,{1000 + step * (index % 2)},," if step % 10 == 0 else ",,,,"
                handle.write(f"{step},measure,{starts[step]:.6f},{latencies[step]:.4f}{extra}\n")
        leak_bytes_per_iter = 4096 * index
        times = np.arange(starts[0], starts[-1], SAMPLE_INTERVAL_S)
        steps = np.searchsorted(starts, times)
        rss = 500e6 + steps * leak_bytes_per_iter + rng.normal(0, 200e3, len(times))
        rss = (rss // 4096) * 4096
        with open(strategy_dir / "samples.csv", "w") as handle:
            handle.write(",".join(rundir.SAMPLE_COLUMNS) + "\n")
            for t, step, value in zip(times, steps, rss, strict=True):
                handle.write(f"{t:.6f},{step},{int(value)},{int(value * 0.9)},,,,\n")
        rundir.write_json_atomic(strategy_dir / "status.json", {
            "outcome": "completed", "exit_code": 0, "signal": None, "signal_name": None, "description": "completed",
            "steps_completed": ITERATIONS, "iterations_completed": ITERATIONS, "warmup_completed": 0,
            "wall_time_s": float(starts[-1] - starts[0]), "memory_limit_hit": False, "hung": False})


def render_synthetic() -> dict:
    from leakhunt.report.build import build_outputs

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        write_synthetic_run(folder)
        started = time.perf_counter()
        build_outputs(folder)
        elapsed = time.perf_counter() - started
        return {
            "render_s": elapsed,
            "report_html_bytes": (folder / "report.html").stat().st_size,
            "summary_json_bytes": (folder / "summary.json").stat().st_size,
            "summary_md_bytes": (folder / "summary.md").stat().st_size,
        }


def big_soak(iterations: int) -> dict:
    """The CLI in a process of its own: what is measured is that process's RSS (the parent's), from outside."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        command = leakhunt_command("soak", "--workload", f"{WORKLOADS / 'bench_steps.py'}:python_flat_fast",
                                   "--iterations", str(iterations), "--out", str(out), "--no-progress")
        parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watcher = psutil.Process(parent.pid)
        peak_rss = 0
        rss_at_child_end = None
        started = time.perf_counter()
        while parent.poll() is None:
            try:
                rss = watcher.memory_info().rss
            except psutil.NoSuchProcess:
                break
            peak_rss = max(peak_rss, rss)
            if rss_at_child_end is None and (out / "strategies").exists() and any(
                    (p / "status.json").exists() for p in (out / "strategies").iterdir()):
                rss_at_child_end = rss
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        strategy = next((out / "strategies").iterdir())
        status = read_json(strategy / "status.json")
        return {"iterations": status["iterations_completed"], "wall_s": elapsed, "parent_peak_rss_bytes": peak_rss,
                "parent_rss_when_child_ended_bytes": rss_at_child_end,
                "iterations_csv_bytes": (strategy / "iterations.csv").stat().st_size,
                "report_html_bytes": (out / "report.html").stat().st_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-iterations", type=int, default=100_000)
    args = parser.parse_args()
    synthetic = render_synthetic()
    big = big_soak(args.big_iterations)
    mib = 2**20
    rows = [("8 x 5000 synthetic: render time (s)", f"{synthetic['render_s']:.2f}"),
            ("8 x 5000 synthetic: report.html (MiB)", f"{synthetic['report_html_bytes'] / mib:.2f}"),
            ("8 x 5000 synthetic: summary.json (KiB)", f"{synthetic['summary_json_bytes'] / 1024:.1f}"),
            (f"{big['iterations']} iterations soak: wall (s)", f"{big['wall_s']:.1f}"),
            ("  parent peak RSS (MiB)", f"{big['parent_peak_rss_bytes'] / mib:.1f}")]
    if big["parent_rss_when_child_ended_bytes"]:
        rows.append(("  parent RSS when the child ended (MiB)",
                     f"{big['parent_rss_when_child_ended_bytes'] / mib:.1f}"))
    rows += [("  iterations.csv (MiB)", f"{big['iterations_csv_bytes'] / mib:.1f}"),
             ("  report.html (MiB)", f"{big['report_html_bytes'] / mib:.2f}")]
    print()
    print("\n".join(text_table([("case", "<44"), ("value", ">14")], rows)))

if __name__ == "__main__":
    main()
