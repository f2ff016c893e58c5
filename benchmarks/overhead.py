"""Measurement overhead: the same workload as a bare loop and under `leakhunt soak` (default sampling).

Prints, per workload, the ratio soak/bare of (a) the median per-iteration latency and (b) the wall time per
iteration (which also charges the child's own bookkeeping between steps), as the median of per-round paired
ratios with their range (this shared machine's noise between two identical runs is easily +-10%), and
(c) the loop's own bookkeeping per step (gap between one step's end and the next one's start), which is
deterministic and shows the instrumentation cost directly. Runs alternate bare/soak. Targets: <= 1.02 on the
tiny Mask R-CNN preset, <= 1.10 on a 1 ms pure-Python step.

--noop adds a no-op step (the most steps per second): its wall time per step bare (two clock reads around the
call) and under the soak (from the first measured step's start to the last one's end, over iterations.csv
and, in run folders of format 2, latency_blocks.csv). It reads only those files' plain columns, so the same
script measures an older leakhunt too (one with `leakhunt.run_soak`): PYTHONPATH=<old checkout>.

    python benchmarks/overhead.py [--iterations 2000] [--rounds 3] [--skip-model] [--noop [--noop-steps N]]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from _harness import WORKLOADS, measured_steps, soak, text_table, workload, workload_function

BENCH_STEPS = WORKLOADS / "bench_steps.py"

BARE_LOOP = r"""
import json, sys, time
from leakhunt.workloads.custom import Workload, load_factory
target, kwargs, warmup, iterations = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
workload = Workload(load_factory(target)(**kwargs), target)
for _ in range(warmup):
    workload.step()
starts, latencies = [], []
for _ in range(iterations):
    started = time.monotonic()
    workload.step()
    finished = time.monotonic()
    starts.append(started)
    latencies.append((finished - started) * 1e3)
workload.close()
print(json.dumps({"starts": starts, "latencies_ms": latencies}))
"""


def _gap_us(starts, latencies_ms) -> float:
    """Median time from the end of one step to the start of the next: the loop's own bookkeeping."""
    gaps = [(starts[i + 1] - starts[i]) * 1e6 - latencies_ms[i] * 1e3 for i in range(len(starts) - 1)]
    return statistics.median(gaps)


def bare_run(target: str, kwargs: dict, warmup: int, iterations: int) -> tuple[float, float, float]:
    output = subprocess.run([sys.executable, "-c", BARE_LOOP, target, json.dumps(kwargs), str(warmup), str(iterations)],
                            capture_output=True, text=True, check=True).stdout
    data = json.loads(output.strip().splitlines()[-1])
    starts = data["starts"]
    return (statistics.median(data["latencies_ms"]), (starts[-1] - starts[0]) / (len(starts) - 1) * 1e3,
            _gap_us(starts, data["latencies_ms"]))


def _soak_folder(out: Path, target: str, kwargs: dict, warmup: int, iterations: int) -> Path:
    """One soak of the workload (every iteration, no attribution pass) into `out`; its strategy folder."""
    run = soak([workload("bench", target, **kwargs)], out, iterations=iterations, warmup=warmup)
    return out / "strategies" / str(run.entries["bench"]["folder"])


def soak_run(target: str, kwargs: dict, warmup: int, iterations: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        measured = measured_steps(_soak_folder(Path(tmp) / "run", target, kwargs, warmup, iterations))
    starts = measured["start_monotonic_s"].to_numpy()
    latencies = measured["latency_ms"].to_numpy()
    return (float(measured["latency_ms"].median()), float((starts[-1] - starts[0]) / (len(starts) - 1) * 1e3),
            _gap_us(list(starts), list(latencies)))


NOOP_BARE_LOOP = r"""
import sys, time
from leakhunt.workloads.custom import Workload, load_factory
target, steps = sys.argv[1], int(sys.argv[2])
workload = Workload(load_factory(target)(), target)
step, monotonic = workload.step, time.monotonic
for _ in range(1000):
    step()
began = monotonic()
for _ in range(steps):
    started = monotonic()
    step()
    finished = monotonic()
print((monotonic() - began) / steps)
"""


def noop_soak_period_s(target: str, steps: int) -> float:
    """Wall time per measured step of a no-op soak (rows and, in format 2, latency blocks)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = _soak_folder(Path(tmp) / "run", target, {}, 10, steps)
        rows = measured_steps(folder)
        first = rows["start_monotonic_s"].min()
        last = (rows["start_monotonic_s"] + rows["latency_ms"] / 1e3).max()
        counted = len(rows)
        if (folder / "latency_blocks.csv").exists():
            blocks = pd.read_csv(folder / "latency_blocks.csv",
                                 usecols=["phase", "steps", "start_monotonic_s", "end_monotonic_s"])
            blocks = blocks[blocks["phase"] == "measure"]
            first = min(first, blocks["start_monotonic_s"].min())
            last = max(last, blocks["end_monotonic_s"].max())
            counted += int(blocks["steps"].sum())
    return float(last - first) / counted


def noop_compare(steps: int, rounds: int) -> dict:
    target = f"{BENCH_STEPS}:noop"
    bare, soak = [], []
    for _ in range(rounds):
        output = subprocess.run([sys.executable, "-c", NOOP_BARE_LOOP, target, str(steps)], capture_output=True,
                                text=True, check=True).stdout
        bare.append(float(output.strip().splitlines()[-1]))
        soak.append(noop_soak_period_s(target, steps))
    row = {"workload": "no-op step", "steps": steps, "rounds": rounds,
           "bare_ns_per_step": statistics.median(bare) * 1e9,
           "soak_ns_per_step": statistics.median(soak) * 1e9,
           "soak_runs_ns": [round(value * 1e9, 1) for value in soak], "bare_runs_ns": [round(v * 1e9, 1) for v in bare]}
    print(json.dumps(row), file=sys.stderr)
    return row


def compare(label: str, target: str, kwargs: dict, warmup: int, iterations: int, rounds: int) -> dict:
    latency_ratios, period_ratios, bare_p50, soak_p50, bare_gap, soak_gap = [], [], [], [], [], []
    for _ in range(rounds):
        bare_latency, bare_period, bare_gap_us = bare_run(target, kwargs, warmup, iterations)
        soak_latency, soak_period, soak_gap_us = soak_run(target, kwargs, warmup, iterations)
        latency_ratios.append(soak_latency / bare_latency)
        period_ratios.append(soak_period / bare_period)
        bare_p50.append(bare_latency)
        soak_p50.append(soak_latency)
        bare_gap.append(bare_gap_us)
        soak_gap.append(soak_gap_us)
    row = {
        "workload": label,
        "iterations": iterations,
        "rounds": rounds,
        "bare_p50_ms": statistics.median(bare_p50),
        "soak_p50_ms": statistics.median(soak_p50),
        "latency_ratio": statistics.median(latency_ratios),
        "latency_ratio_range": (min(latency_ratios), max(latency_ratios)),
        "period_ratio": statistics.median(period_ratios),
        "bare_gap_us": statistics.median(bare_gap),
        "soak_gap_us": statistics.median(soak_gap),
    }
    print(json.dumps(row), file=sys.stderr)
    return row


def interference_run(target: str, kwargs: dict, warmup: int, iterations: int, block_s: float) -> tuple[float, int]:
    """Within ONE soak child, parent sampling alternates on/off in blocks of block_s seconds.

    Comparing steps of on-blocks with steps of off-blocks of the same process removes the process-to-process
    variance (memory layout, core placement, neighbours) that dominates the bare-vs-soak comparison.
    Returns (median latency on / median latency off, steps compared).

    Not through the harness's soak(): the parent's sampler is swapped for a gated one, which only the runner's
    own StrategyRun allows (no public API takes a sampler); the one benchmark that reaches into it.
    """
    from leakhunt import runner
    from leakhunt.harness.progress_ui import ProgressDisplay
    from leakhunt.rundir.config import RunConfig, StrategySpec
    from leakhunt.sampling import RssSampler

    class GatedRssSampler(RssSampler):
        def __init__(self):
            super().__init__()
            self.origin_s = None

        def sample(self, pid):
            import time

            now = time.monotonic()
            if self.origin_s is None:
                self.origin_s = now
            if int((now - self.origin_s) // block_s) % 2:
                return {"rss_bytes": None, "uss_bytes": None}  # an off-block: the child is left alone
            return super().sample(pid)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        spec = StrategySpec("bench", target, kwargs)
        config = RunConfig(attribute="off", strategies=(spec,), out_dir=out, iterations=iterations, warmup_steps=warmup,
                           show_progress=False, until_decided=False)
        folder = out / "strategies" / "00-bench"
        sampler = GatedRssSampler()
        runner.StrategyRun(0, 1, spec, config, folder, sampler, None, ProgressDisplay(False)).run()
        frame = pd.read_csv(folder / "iterations.csv")
    measured = frame[frame["phase"] == "measure"]
    block = ((measured["start_monotonic_s"] - sampler.origin_s) // block_s).astype(int) % 2
    on = measured[block == 0]["latency_ms"].median()
    off = measured[block == 1]["latency_ms"].median()
    return float(on / off), len(measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--model-iterations", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--skip-1ms", action="store_true", help="skip the 1 ms step (e.g. with --noop only)")
    parser.add_argument("--noop", action="store_true", help="also measure a no-op step's wall time per step")
    parser.add_argument("--noop-steps", type=int, default=2_000_000)
    args = parser.parse_args()
    calibrate_1ms_spins = workload_function(BENCH_STEPS, "calibrate_1ms_spins")

    if args.noop:
        row = noop_compare(args.noop_steps, args.rounds)
        print(f"no-op step, {row['steps']:,} steps x {row['rounds']} rounds: bare {row['bare_ns_per_step']:.0f} ns, "
              f"soak {row['soak_ns_per_step']:.0f} ns per step (soak runs {row['soak_runs_ns']})")
        if args.skip_1ms:
            return

    spins = calibrate_1ms_spins()
    rows = [compare("python 1 ms step", f"{BENCH_STEPS}:python_1ms", {"spins": spins}, 50, args.iterations,
                    args.rounds)]
    if not args.skip_model:
        rows.append(compare("mask r-cnn tiny, persistent", "leakhunt.strategies.factory:build",
                            {"strategy": "persistent", "preset": "tiny"}, 5, args.model_iterations, args.rounds))
    interference = []
    interference.append(("python 1 ms step", [interference_run(f"{BENCH_STEPS}:python_1ms", {"spins": spins}, 50,
                                                                args.iterations * 3, 0.5)[0]
                                               for _ in range(args.rounds)]))
    if not args.skip_model:
        interference.append(("mask r-cnn tiny, persistent", [
            interference_run("leakhunt.strategies.factory:build", {"strategy": "persistent", "preset": "tiny"}, 5,
                             args.model_iterations * 3, 2.0)[0] for _ in range(max(2, args.rounds // 2))]))
    targets = {"python 1 ms step": 1.10, "mask r-cnn tiny, persistent": 1.02}
    print()
    columns = [("workload", "<28"), ("bare p50 ms", ">11.3f"), ("soak p50 ms", ">11.3f"), ("p50 ratio", ">9.3f"),
               ("(range)", ">13"), ("period ratio", ">12.3f"), ("loop gap bare/soak us", ">22"), ("target", ">6.2f")]
    cells = [(row["workload"], row["bare_p50_ms"], row["soak_p50_ms"], row["latency_ratio"],
              "({:.2f}-{:.2f})".format(*row["latency_ratio_range"]), row["period_ratio"],
              f"{row['bare_gap_us']:>10.1f} / {row['soak_gap_us']:<9.1f}", targets[row["workload"]]) for row in rows]
    print("\n".join(text_table(columns, cells)))
    print()
    print("parent sampling on/off in alternating blocks within one soak child (median latency on / off):")
    for label, ratios in interference:
        print(f"  {label:<28} {statistics.median(ratios):.3f}  (runs: {', '.join(f'{r:.3f}' for r in ratios)})")


if __name__ == "__main__":
    main()
