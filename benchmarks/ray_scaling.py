"""Wall time of one matrix of 4 short custom workloads: the local backend against --backend ray, side by side.

Modes, alternating within each round: `local` (one child after another), `ray-whole-node` (Ray's default here:
each CPU strategy holds the whole node, so they still run one after another: the difference to `local` is
Ray's own cost) and `ray-1-cpu` (--ray-cpus-per-strategy 1: two at a time on a 2-core machine). Each run is a
fresh `leakhunt soak` process that starts its own local Ray instance, as a user's first run would.

Prints per mode the median wall time and its ratio to local, Ray's per-strategy overhead (task start, worker
probe and file return, from run.json and status.json), the size of the folders sent back, the verdicts, and
each workload's p50 step latency per mode (two busy children on two cores slow each other down).

    python benchmarks/ray_scaling.py [--iterations 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import REPO, WORKLOADS, read_json, read_summary, run_cli, text_table

STEPS = WORKLOADS / "ray_steps.py"
STEP_NAMES = ("sleep_flat", "sleep_leak", "cpu_flat", "cpu_leak")
MODES = {
    "local": (),
    "ray-whole-node": ("--backend", "ray"),
    "ray-1-cpu": ("--backend", "ray", "--ray-cpus-per-strategy", "1"),
}


def soak(mode: str, iterations: int, out: Path) -> float:
    """The wall time of one `leakhunt soak` process: the CLI, since a fresh process (and its own Ray instance,
    started and stopped) is what a user's run pays and what is compared here."""
    _, wall_s = run_cli("soak", *[a for w in STEP_NAMES for a in ("-w", f"{STEPS}:{w}")], "--iterations",
                        str(iterations), "--warmup", "0", "--exact", "--no-progress", "--out", str(out), *MODES[mode],
                        check=True, capture_output=True, cwd=REPO)
    return wall_s


def ray_init_s() -> float:
    """One local Ray instance's start and stop, as --backend ray pays it once per run."""
    code = ("import logging, time, ray; t = time.monotonic(); ray.init(include_dashboard=False, "
            "log_to_driver=False, logging_level=logging.ERROR); ray.shutdown(); print(time.monotonic() - t)")
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
                 .stdout.strip().splitlines()[-1])


def run_figures(out: Path) -> dict:
    """Per-run figures from the run folder: verdicts, p50s, child wall, worker wall, bytes sent back."""
    summary = read_summary(out)
    meta = read_json(out / "run.json")
    entries = {entry["name"].split(":")[-1]: entry for entry in summary["strategies"]}
    worker_wall = (meta.get("backend") or {}).get("worker_wall_s") or {}
    timeline = (meta.get("backend") or {}).get("timeline_unix_s") or {}
    folder_bytes = 0
    if worker_wall:
        from leakhunt.backends.ray_task import pack_folder

        folder_bytes = sum(len(pack_folder(folder)) for folder in (out / "strategies").iterdir())
    return {
        "verdicts": {name: entry["verdict"] for name, entry in entries.items()},
        "p50_ms": {name: entry["latency_ms"]["p50"] for name, entry in entries.items()},
        "child_wall_s": sum(entry["wall_time_s"] or 0 for entry in entries.values()),
        "worker_wall_s": sum(worker_wall.values()) if worker_wall else None,
        "folder_bytes": folder_bytes,
        **ray_costs(list(timeline.values())),
    }


def ray_costs(timeline: list[dict]) -> dict:
    """Median task start (previous task's result ready -> this task's body running: worker exit, resource
    handover, a fresh worker and its imports; the first task: submit -> running) and file return (result
    ready on the worker -> unpacked in the run folder)."""
    if not timeline:
        return {"start_s": None, "first_start_s": None, "return_s": None}
    ordered = sorted(timeline, key=lambda times: times["started"])
    pairs = zip(ordered[:-1], ordered[1:], strict=True)
    handovers = [later["started"] - earlier["finished"] for earlier, later in pairs]
    return {"start_s": statistics.median(handovers) if handovers else None,
            "first_start_s": ordered[0]["started"] - ordered[0]["submitted"],
            "return_s": statistics.median(times["collected"] - times["finished"] for times in timeline)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {mode: [] for mode in MODES}
    figures: dict[str, list[dict]] = {mode: [] for mode in MODES}
    init_s = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_index in range(args.rounds):
            init_s.append(ray_init_s())
            for mode in MODES:
                out = Path(tmp) / f"{mode}-{round_index}"
                walls[mode].append(soak(mode, args.iterations, out))
                figures[mode].append(run_figures(out))
                print(f"round {round_index + 1} {mode}: {walls[mode][-1]:.1f} s", flush=True)
    report(walls, figures, init_s, args.iterations)


def report(walls: dict, figures: dict, init_s: list[float], iterations: int) -> None:
    local_s = statistics.median(walls["local"])
    count = len(STEP_NAMES)
    print(f"\n{count} workloads x {iterations} iterations; local Ray instance start+stop "
          f"{statistics.median(init_s):.1f} s (median of {len(init_s)})")
    rows = [(mode, f"{statistics.median(values):>8.1f} ({', '.join(f'{value:.1f}' for value in values):>13})",
             f"{statistics.median(values) / local_s:>8.2f}x") for mode, values in walls.items()]
    print("\n".join(text_table([("mode", "<16"), ("wall s (runs)", ">24"), ("vs local", ">9")], rows)))
    whole = statistics.median(walls["ray-whole-node"])
    per_strategy = (whole - local_s - statistics.median(init_s)) / count
    print(f"Ray's cost per strategy run one after another (wall - local - instance start, / {count}): "
          f"{per_strategy:.2f} s")
    for mode in ("ray-whole-node", "ray-1-cpu"):
        run = figures[mode][-1]
        worker_extra = (run["worker_wall_s"] - run["child_wall_s"]) / count
        print(f"{mode}: worker time around each child (probe, placement, pack) {worker_extra:.2f} s; folders sent "
              f"back {run['folder_bytes'] / count / 1024:.0f} KiB per strategy (gzipped tar)")
        # One after another (whole node) the handover is Ray's start cost; two at a time it means nothing.
        starts = [r["start_s"] for r in figures[mode] if r["start_s"] is not None and mode == "ray-whole-node"]
        firsts = [r["first_start_s"] for r in figures[mode]]
        returns = [r["return_s"] for r in figures[mode]]
        handover = f"task start {statistics.median(starts):.2f} s after the previous result, " if starts else ""
        print(f"{mode}: {handover}first task running {statistics.median(firsts):.2f} s after submit; file return "
              f"{statistics.median(returns) * 1e3:.0f} ms (medians over rounds)")
    print("\np50 step latency (ms) per workload, last round:")
    rows = [(name, *(figures[mode][-1]["p50_ms"][name] for mode in MODES)) for name in STEP_NAMES]
    print("\n".join(text_table([("workload", "<12"), *((mode, ">15.2f") for mode in MODES)], rows)))
    same = all(run["verdicts"] == figures["local"][0]["verdicts"] for mode in MODES for run in figures[mode])
    print(f"verdicts {'identical in every run' if same else 'DIFFER'}: {figures['local'][0]['verdicts']}")


if __name__ == "__main__":
    main()
