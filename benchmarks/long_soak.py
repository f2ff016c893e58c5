"""Long soaks: does the run folder, and the report built from it, grow with the soak's duration at a small fixed
rate whatever the step time (issue 23)?

Each case is one `leakhunt soak --exact --duration D` through the CLI (a no-op step, a calibrated ~1 ms
pure-Python step, the tiny Mask R-CNN `persistent` strategy), then one `leakhunt report` on its folder. Per
case it prints the run folder's size and its growth per hour (size / duration, and the steady rate: the
folder's growth over the second half of the soak, sampled every few seconds), `leakhunt soak`'s wall time
and peak RSS (the parent, which also builds the report; and the child), `leakhunt report`'s wall time and
peak RSS (VmHWM of its process, polled), and leakhunt's p50/p99 against the exact percentiles of the very same
steps: the child also dumps every blocked step's latency (LEAKHUNT_KEEP_RAW_LATENCY=1, a benchmark-only
file not counted in the folder's size), and the exact figures are numpy's percentiles over those and the
steps that have a row. Targets: < 50 MB of run folder per hour, `leakhunt report` < 10 s and < 500 MB,
p50/p99 within 1% of exact.

    python benchmarks/long_soak.py                               # the three cases, 2 min each
    python benchmarks/long_soak.py --cases noop --duration 30m --no-reference   # the 30-minute no-op run
    python benchmarks/long_soak.py --cases 1ms --duration 2m --keep /tmp/long   # keep the run folders
    python benchmarks/long_soak.py --stretch /tmp/long/noop --hours 8   # an 8-hour folder from a kept run

--stretch builds an N-hour run folder from a real one by repeating its steady part (the reading rows and
blocks after the first steps, and the parent's samples), shifted in steps and time, and times `leakhunt
report` and `leakhunt compare` (the folder against itself) on it: the readers' scale, not the child's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from _harness import (
    WORKLOADS,
    leakhunt_command,
    markdown_table,
    measured_steps,
    read_json,
    read_summary,
    runs_folder,
    write_json,
)

BENCH_STEPS = WORKLOADS / "bench_steps.py"
RAW_FILE = "raw_latency.f32"  # leakhunt.child.latency.RAW_LATENCY_FILE
UNBOUNDED_ITERATIONS = "1000000000000"
SIZE_POLL_S = 5.0
RSS_POLL_S = 0.1
MIB = 2**20


def case_arguments(name: str) -> list[str]:
    if name == "noop":
        return ["--workload", f"{BENCH_STEPS}:noop"]
    if name == "1ms":
        return ["--workload", f"{BENCH_STEPS}:python_1ms"]  # calibrates its spins in the child
    if name == "maskrcnn":
        return ["--strategy", "persistent", "--preset", "tiny"]
    raise SystemExit(f"unknown case {name!r} (noop, 1ms, maskrcnn)")


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and path.name != RAW_FILE)


class Watcher(threading.Thread):
    """Polls a process tree: the parent's and the largest child's RSS peaks, and the run folder's size."""

    def __init__(self, pid: int, folder: Path):
        super().__init__(daemon=True)
        self.process, self.folder = psutil.Process(pid), folder
        self.parent_peak = self.child_peak = 0
        self.sizes: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        started = next_size = time.monotonic()
        while not self.done.is_set():
            try:
                self.parent_peak = max(self.parent_peak, self.process.memory_info().rss)
                for child in self.process.children(recursive=True):
                    self.child_peak = max(self.child_peak, child.memory_info().rss)
            except psutil.Error:
                pass
            now = time.monotonic()
            if now >= next_size and self.folder.exists():
                self.sizes.append((now - started, folder_bytes(self.folder)))
                next_size = now + SIZE_POLL_S
            time.sleep(RSS_POLL_S)


def soak(name: str, duration: str, folder: Path, reference: bool) -> dict:
    """`leakhunt soak` as a process of its own: its peak RSS (the parent's, which also builds the report) and
    its child's are measured from outside, which a soak inside this process could not give."""
    command = leakhunt_command("soak", *case_arguments(name), "--exact", "--iterations", UNBOUNDED_ITERATIONS,
                               "--duration", duration, "--out", str(folder), "--force")
    env = dict(os.environ, LEAKHUNT_KEEP_RAW_LATENCY="1" if reference else "0")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watcher = Watcher(process.pid, folder)
    watcher.start()
    _, stderr = process.communicate()
    wall_s = time.monotonic() - started
    watcher.done.set()
    watcher.join()
    if not (folder / "summary.json").exists():
        raise SystemExit(f"{name}: soak failed ({process.returncode}):\n{stderr[-2000:]}")
    return {"soak_wall_s": wall_s, "soak_parent_peak_bytes": watcher.parent_peak,
            "child_peak_bytes": watcher.child_peak, "sizes": watcher.sizes}


def _high_water_bytes(pid: int) -> int:
    """VmHWM of a live process: the peak RSS of its own address space (reset by exec, unlike ru_maxrss, which a
    forked child inherits from this benchmark's own peak once it has loaded a raw latency dump)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def report(folder: Path) -> dict:
    """`leakhunt report` in a process of its own: wall time and its own peak RSS (VmHWM, polled until it exits)."""
    started = time.monotonic()
    process = subprocess.Popen(leakhunt_command("report", str(folder)), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _high_water_bytes(process.pid))
        time.sleep(0.01)
    if process.returncode != 0:
        raise SystemExit(f"leakhunt report {folder} failed")
    return {"report_wall_s": time.monotonic() - started, "report_peak_bytes": peak}


def exact_percentiles(strategy_dir: Path) -> tuple[float, float, int] | None:
    """numpy's p50 and p99 over every measured step: the rows' latency and the raw dump of the blocked ones."""
    raw_path = strategy_dir / RAW_FILE
    if not raw_path.exists():
        return None
    measured = measured_steps(strategy_dir, ["latency_ms"])["latency_ms"].to_numpy(dtype=np.float64)
    raw_ms = np.fromfile(raw_path, dtype=np.float32).astype(np.float64) * 1e3
    values = np.concatenate([measured, raw_ms])
    p50, p99 = np.percentile(values, [50, 99])
    return float(p50), float(p99), int(values.size)


def steady_mb_per_hour(sizes: list[tuple[float, int]]) -> float | None:
    """The folder's growth rate over the second half of the soak (a least-squares line through the polls)."""
    if len(sizes) < 4:
        return None
    times = np.array([t for t, _ in sizes])
    later = times >= times[-1] / 2
    if later.sum() < 3:
        return None
    slope = np.polyfit(times[later], np.array([b for _, b in sizes], dtype=float)[later], 1)[0]
    return float(slope * 3600 / 1e6)


def run_case(name: str, duration: str, root: Path, reference: bool) -> dict:
    folder = root / name
    row = {"case": name, "duration": duration, **soak(name, duration, folder, reference)}
    row.update(report(folder))
    summary = read_summary(folder)
    entry = summary["strategies"][0]
    strategy_dir = folder / "strategies" / entry["folder"]
    config_duration_s = float(summary["run"]["config"]["duration_s"])
    size = folder_bytes(folder)
    row.update(iterations=entry["iterations_completed"], folder_bytes=size,
               mb_per_hour=size / 1e6 * 3600 / config_duration_s, steady_mb_per_hour=steady_mb_per_hour(row["sizes"]),
               p50_ms=entry["latency_ms"]["p50"], p99_ms=entry["latency_ms"]["p99"], verdict=entry["verdict"],
               files={path.name: path.stat().st_size for path in strategy_dir.iterdir() if path.name != RAW_FILE})
    exact = exact_percentiles(strategy_dir)
    if exact is not None:
        row.update(exact_p50_ms=exact[0], exact_p99_ms=exact[1], exact_steps=exact[2],
                   p50_error=row["p50_ms"] / exact[0] - 1, p99_error=row["p99_ms"] / exact[1] - 1)
    del row["sizes"]
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def print_table(rows: list[dict]) -> None:
    def mib(value):
        return f"{value / MIB:,.1f}"

    def error(row, key):
        return f"{row[key]:+.2%}" if key in row else "-"

    header = ["case", "duration", "iterations", "run folder MiB", "MB/h (size/duration)", "MB/h (steady)",
              "soak wall s", "soak parent / child peak RSS MiB", "report wall s", "report peak RSS MiB",
              "p50 (exact)", "p50 error", "p99 error", "verdict"]
    cells = []
    for row in rows:
        steady = "-" if row["steady_mb_per_hour"] is None else f"{row['steady_mb_per_hour']:.1f}"
        exact = f" ({row['exact_p50_ms']:.6g} ms)" if "exact_p50_ms" in row else ""
        cells.append([row["case"], row["duration"], f"{row['iterations']:,}", mib(row["folder_bytes"]),
                      f"{row['mb_per_hour']:.1f}", steady, f"{row['soak_wall_s']:.1f}",
                      f"{mib(row['soak_parent_peak_bytes'])} / {mib(row['child_peak_bytes'])}",
                      f"{row['report_wall_s']:.2f}", mib(row["report_peak_bytes"]), f"{row['p50_ms']:.6g} ms{exact}",
                      error(row, "p50_error"), error(row, "p99_error"), row["verdict"]])
    print()
    print("\n".join(markdown_table(header, "llrrrrrrrrlrrl", cells)))

def stretch(source: Path, hours: float, target: Path) -> Path:
    """An `hours`-long copy of a soak's run folder: its steady part repeated, shifted in steps and time."""
    import pandas as pd

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(RAW_FILE, "report.html", "summary.*"))
    for folder in (target / "strategies").iterdir():
        rows = pd.read_csv(folder / "iterations.csv")
        blocks = pd.read_csv(folder / "latency_blocks.csv", dtype={"buckets": str})
        samples = pd.read_csv(folder / "samples.csv")
        steady = rows[rows["step"] >= 10_000]
        span_s = float(blocks["end_monotonic_s"].max() - steady["start_monotonic_s"].min())
        span_steps = int(blocks["last_step"].max() - steady["step"].min() + 1)
        copies = max(1, round(hours * 3600 / span_s))
        for copy in range(1, copies):
            for frame, name, step_columns, time_columns in (
                    (steady, "iterations.csv", ["step"], ["start_monotonic_s"]),
                    (blocks, "latency_blocks.csv", ["first_step", "last_step"],
                     ["start_monotonic_s", "end_monotonic_s"]),
                    (samples[samples["steps_done"] >= 10_000], "samples.csv", ["steps_done"], ["t_monotonic_s"])):
                shifted = frame.copy()
                shifted[step_columns] += copy * span_steps
                shifted[time_columns] += copy * span_s
                shifted.to_csv(folder / name, mode="a", header=False, index=False, float_format="%.6f")
        status = read_json(folder / "status.json")
        for key in ("steps_completed", "iterations_completed"):
            status[key] = status[key] + (copies - 1) * span_steps
        (folder / "status.json").write_text(json.dumps(status))
    return target


def time_readers(folder: Path) -> None:
    size = folder_bytes(folder)
    row = report(folder)
    started = time.monotonic()
    process = subprocess.Popen(leakhunt_command("compare", str(folder), str(folder)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    print(f"{folder}: {size / MIB:,.1f} MiB; leakhunt report {row['report_wall_s']:.2f} s, peak "
          f"{row['report_peak_bytes'] / MIB:,.0f} MiB; "
          f"leakhunt compare (with itself) {time.monotonic() - started:.2f} s, "
          f"peak {usage.ru_maxrss / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="noop,1ms,maskrcnn", help="comma-separated: noop, 1ms, maskrcnn")
    parser.add_argument("--duration", default="2m", help="soak duration per case (leakhunt's --duration syntax)")
    parser.add_argument("--no-reference", action="store_true", help="skip the exact raw-latency reference")
    parser.add_argument("--keep", type=Path, help="keep the run folders here")
    parser.add_argument("--json", type=Path, help="write the rows here too")
    parser.add_argument("--stretch", type=Path, help="a kept case's run folder to stretch to --hours")
    parser.add_argument("--hours", type=float, default=8.0)
    args = parser.parse_args()
    if args.stretch:
        time_readers(stretch(args.stretch, args.hours, args.stretch.with_name(f"{args.stretch.name}-{args.hours:g}h")))
        return
    with runs_folder(args.keep, "long_soak", fresh=False) as root:
        rows = [run_case(name, args.duration, root, not args.no_reference) for name in args.cases.split(",")]
    print_table(rows)
    write_json(args.json, rows, indent=2)


if __name__ == "__main__":
    main()
