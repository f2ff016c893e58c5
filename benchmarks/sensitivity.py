"""Detection sensitivity and false-leak rate of leakhunt's verdicts, on planted leaks with known truth.

Planted leaks of 256 B .. 64 KiB per iteration, Python-held and native (malloc'd and touched via ctypes),
judged after 500, 1000 and 5000 iterations (the shorter lengths are the first N iterations of the 5000-
iteration run, re-analysed from disk: the analysis is a pure function of the data). Then at least 20 runs
of flat workloads (Python, numpy, a finalized TF graph) give the false-leak rate.
Goal: every planted leak >= 1 KiB/iteration found by 5000 iterations; no flat run ever called a leak.

    python benchmarks/sensitivity.py [--repeats 2] [--flat-runs 21] [--pace-ms 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
BENCH_STEPS = REPO / "benchmarks" / "workloads" / "bench_steps.py"
LEAK_SIZES_BYTES = (256, 1024, 4096, 16384, 65536)
LENGTHS = (500, 1000, 5000)
WARMUP = 20


def soak(out: Path, specs, iterations: int) -> None:
    from leakhunt import runner
    from leakhunt.config import RunConfig

    runner.run(RunConfig(strategies=tuple(specs), out_dir=out, iterations=iterations, warmup_steps=WARMUP,
                         show_progress=False))


def truncated_summary(run: Path, iterations: int, scratch: Path) -> dict:
    """Re-analyse the first `iterations` measured iterations of a run folder."""
    from leakhunt.report.build import build_outputs

    copy = scratch / f"trunc-{iterations}"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(run, copy)
    last_step = WARMUP + iterations
    for folder in (copy / "strategies").iterdir():
        frame = pd.read_csv(folder / "iterations.csv")
        frame[frame["step"] < last_step].to_csv(folder / "iterations.csv", index=False)
        samples = pd.read_csv(folder / "samples.csv")
        samples[samples["steps_done"] <= last_step].to_csv(folder / "samples.csv", index=False)
        status = json.loads((folder / "status.json").read_text())
        status["iterations_completed"] = min(status["iterations_completed"], iterations)
        status["steps_completed"] = min(status["steps_completed"], last_step)
        (folder / "status.json").write_text(json.dumps(status))
    return build_outputs(copy, formats=("json",))


def main() -> None:
    from leakhunt.config import StrategySpec

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per planted leak")
    parser.add_argument("--flat-runs", type=int, default=21, help="flat runs in all (split over 3 kinds)")
    parser.add_argument("--pace-ms", type=float, default=2.0, help="sleep per step: sets iterations per sample")
    parser.add_argument("--flat-iterations", type=int, default=2000)
    args = parser.parse_args()
    pace_s = args.pace_ms / 1000
    scratch = Path(tempfile.mkdtemp(prefix="leakhunt-sensitivity-"))
    rows = []
    for repeat in range(args.repeats):
        specs = []
        for kind in ("python", "native"):
            for size in LEAK_SIZES_BYTES:
                specs.append(StrategySpec(f"{kind}-{size}", f"{BENCH_STEPS}:{kind}_leak",
                                          {"bytes_per_step": size, "pace_s": pace_s}))
        run = scratch / f"leaks-{repeat}"
        soak(run, specs, max(LENGTHS))
        for length in LENGTHS:
            summary = truncated_summary(run, length, scratch)
            for entry in summary["strategies"]:
                kind, size = entry["name"].split("-")
                slope = entry.get("rss_slope_bytes_per_iter")
                rows.append({"kind": kind, "bytes_per_iter": int(size), "iterations": length,
                             "verdict": entry["verdict"], "slope": slope,
                             "slope_error": None if slope is None else slope / int(size) - 1})
    flat_specs = []
    kinds = ("python_flat", "numpy_flat", "tf_finalized_flat")
    for index in range(args.flat_runs):
        kind = kinds[index % len(kinds)]
        kwargs = {"pace_s": pace_s}
        flat_specs.append(StrategySpec(f"{kind}-{index}", f"{BENCH_STEPS}:{kind}", kwargs))
    flat_run = scratch / "flat"
    soak(flat_run, flat_specs, args.flat_iterations)
    flat_summary = json.loads((flat_run / "summary.json").read_text())
    frame = pd.DataFrame(rows)
    table = frame.groupby(["kind", "bytes_per_iter", "iterations"]).agg(
        detected=("verdict", lambda v: (v == "leak").mean()),
        median_slope_error=("slope_error", "median"),
    ).reset_index()
    flat_verdicts = [entry["verdict"] for entry in flat_summary["strategies"]]
    false_leaks = sum(v == "leak" for v in flat_verdicts)
    shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("planted leaks: detection rate (verdict == leak) and median slope error")
    print(f"{'kind':<8} {'B/iter':>7} {'iters':>6} {'detected':>9} {'slope err':>10}")
    for row in table.itertuples():
        error = "-" if pd.isna(row.median_slope_error) else f"{row.median_slope_error:+.1%}"
        print(f"{row.kind:<8} {row.bytes_per_iter:>7} {row.iterations:>6} {row.detected:>9.0%} {error:>10}")
    print()
    counts = pd.Series(flat_verdicts).value_counts().to_dict()
    print(f"flat runs: {len(flat_verdicts)} ({args.flat_iterations} iterations each), called leak: {false_leaks} "
          f"(false-leak rate {false_leaks / max(len(flat_verdicts), 1):.0%}); verdicts {counts}")
    goal_met = bool(table[(table.bytes_per_iter >= 1024) & (table.iterations == 5000)].detected.min() == 1.0)
    print(f"goal: every leak >= 1 KiB/iter found by 5000 iterations: {'met' if goal_met else 'MISSED'}; "
          f"no flat run called a leak: {'met' if false_leaks == 0 else 'MISSED'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
