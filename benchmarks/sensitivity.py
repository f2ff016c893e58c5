"""Detection sensitivity and false-leak rate of leakhunt's verdicts, on planted leaks with known truth.

Planted leaks of 64 B .. 64 KiB per iteration, Python-held (bytes objects) and native (malloc'd and
touched via ctypes), with no sleep in the step by default (sub-microsecond to a few microseconds: many
iterations per parent sample, so the verdict comes from the child's own readings). Each is judged after
500, 1000 and 5000 iterations: by default the first N iterations of one 5000-iteration run, re-analysed
from disk (the analysis is a pure function of the files); `--separate-lengths` runs each length as its own
soak instead (what a user running `--iterations N` gets: the child then spreads its readings over N).
Detection = verdict `leak`; slope error = measured / planted - 1, the measured slope being the deciding
series' slope in bytes (`deciding_slope_bytes_per_iter`; RSS where the deciding series counts blocks).

Planting is exact by default: the memory kept per step, allocator headers included, is the nominal size
(bench_steps.python_exact_leak / native_exact_leak). `--planting payload` plants payloads of the nominal
size as earlier versions of this benchmark did (bytes header, list slot and malloc chunk header on top).

Then at least 30 runs of flat workloads give the false-leak rate: Python, numpy, a finalized TF1 graph in
one session, a Keras model call loop, a SavedModel signature call loop, tf.constant in a loop, and a
256 B malloc/free loop.
Targets: 256 B/iter found by 5000 iterations with the slope within 20% (stretch: 64 B/iter); every leak of
1 KiB/iter or more found by 5000 iterations; no flat run ever called a leak.

    python benchmarks/sensitivity.py [--repeats 1] [--flat-runs 30] [--pace-ms 0] [--lengths 500,1000,5000]
    python benchmarks/sensitivity.py --pace-ms 2          # the earlier version's pace: ~50 iterations/sample
    python benchmarks/sensitivity.py --repeats 1 --flat-runs 7 --lengths 500 --flat-iterations 500   # smoke
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
from _harness import WORKLOADS, Progress, Strategy, read_json, runs_folder, soak, workload, write_json
from _sensitivity_tables import FLAT_KINDS, FLAT_RUNS_MIN, print_flats, print_leaks, print_targets

BENCH_STEPS = WORKLOADS / "bench_steps.py"
LEAK_SIZES_BYTES = (64, 256, 1024, 4096, 16384, 65536)
LEAK_KINDS = ("python", "native")
LENGTHS = (500, 1000, 5000)
WARMUP = 20
LEAK_FACTORIES = {
    "exact": {"python": "python_exact_leak", "native": "native_exact_leak"},
    "payload": {"python": "python_leak", "native": "native_leak"},
}


def soak_all(out: Path, strategies: list[Strategy], iterations: int, until_decided: bool) -> dict:
    """One soak of every strategy (one child after another); its summary."""
    return soak(strategies, out, iterations=iterations, warmup=WARMUP, until_decided=until_decided).summary


def truncated_summary(run: Path, iterations: int, scratch: Path) -> dict:
    """Re-analyse the first `iterations` measured iterations of a run folder.

    iterations.csv holds one row per step, the child's own readings (rss_bytes, heap_bytes, py_blocks,
    reference_ms, TF allocator) on the rows of the steps they were taken at: filtering by step cuts every
    in-child series at the same iteration. samples.csv (the parent's) is cut by the steps done at each sample.
    """
    from leakhunt.report.build import build_outputs

    copy = scratch / f"trunc-{run.name}-{iterations}"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(run, copy)
    last_step = WARMUP + iterations
    for folder in (copy / "strategies").iterdir():
        frame = pd.read_csv(folder / "iterations.csv")
        frame[frame["step"] < last_step].to_csv(folder / "iterations.csv", index=False)
        samples = pd.read_csv(folder / "samples.csv")
        samples[samples["steps_done"] <= last_step].to_csv(folder / "samples.csv", index=False)
        status = read_json(folder / "status.json")
        status["iterations_completed"] = min(status["iterations_completed"], iterations)
        status["steps_completed"] = min(status["steps_completed"], last_step)
        (folder / "status.json").write_text(json.dumps(status))
    return dict(build_outputs(copy, formats=("json",)))


def measured_slope(entry: dict) -> tuple[float | None, str | None]:
    """The slope the benchmark scores, and the series it came from."""
    slope = entry.get("deciding_slope_bytes_per_iter")
    if slope is not None and entry.get("deciding_unit") == "bytes":
        return slope, entry.get("deciding_series")
    if slope is not None:
        return slope, "rss"  # the deciding series counts blocks; summarize puts the RSS slope here
    return entry.get("rss_slope_bytes_per_iter"), "rss"


def leak_rows(summary: dict, length: int, repeat: int) -> list[dict]:
    rows = []
    for entry in summary["strategies"]:
        kind, size = entry["name"].split("-")
        slope, series = measured_slope(entry)
        rows.append({"kind": kind, "bytes_per_iter": int(size), "iterations": length, "repeat": repeat,
                     "verdict": entry["verdict"], "pattern": entry.get("pattern"),
                     "verdict_reason": entry.get("verdict_reason"), "deciding_series": entry.get("deciding_series"),
                     "slope_series": series, "slope": slope,
                     "slope_error": None if slope is None else slope / int(size) - 1,
                     "iterations_used": entry.get("iterations_completed"),
                     "stopped_early": bool(entry.get("stopped_early"))})
    return rows


def run_leaks(args, scratch: Path) -> list[dict]:
    pace_s = args.pace_ms / 1000
    longest = max(args.lengths)
    factories = LEAK_FACTORIES[args.planting]
    rows: list[dict] = []
    for repeat in range(args.repeats):
        def specs(iterations: int) -> list[Strategy]:
            kwargs_extra = {"slots": WARMUP + iterations + 100} if args.planting == "exact" else {}
            return [workload(f"{kind}-{size}", f"{BENCH_STEPS}:{factories[kind]}", bytes_per_step=size,
                             pace_s=pace_s, **(kwargs_extra if kind == "python" else {}))
                    for kind in LEAK_KINDS for size in LEAK_SIZES_BYTES]

        if args.separate_lengths:
            for length in args.lengths:
                Progress.say(f"leaks, repeat {repeat + 1}/{args.repeats}: one soak of {length} iterations")
                summary = soak_all(scratch / f"leaks-{repeat}-{length}", specs(length), length, args.until_decided)
                rows += leak_rows(summary, length, repeat)
        else:
            Progress.say(f"leaks, repeat {repeat + 1}/{args.repeats}: one soak of {longest} iterations, judged at "
                         f"{', '.join(map(str, args.lengths))}")
            run = scratch / f"leaks-{repeat}"
            soak_all(run, specs(longest), longest, args.until_decided)
            for length in args.lengths:
                rows += leak_rows(truncated_summary(run, length, scratch), length, repeat)
    return rows


def run_flats(args, scratch: Path) -> list[dict]:
    pace_s = args.pace_ms / 1000
    specs = []
    for index in range(args.flat_runs):
        kind = FLAT_KINDS[index % len(FLAT_KINDS)]
        specs.append(workload(f"{kind}-{index}", f"{BENCH_STEPS}:{kind}", pace_s=pace_s))
    Progress.say(f"flats: {len(specs)} runs of {args.flat_iterations} iterations ({len(FLAT_KINDS)} kinds)")
    summary = soak_all(scratch / "flat", specs, args.flat_iterations, args.until_decided)
    rows = []
    for entry in summary["strategies"]:
        slope, series = measured_slope(entry)
        rows.append({"kind": entry["name"].rsplit("-", 1)[0], "name": entry["name"], "verdict": entry["verdict"],
                     "pattern": entry.get("pattern"), "verdict_reason": entry.get("verdict_reason"),
                     "deciding_series": entry.get("deciding_series"), "slope": slope, "slope_series": series,
                     "latency_p50_ms": (entry.get("latency_ms") or {}).get("p50")})
    return rows


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1, help="runs per planted leak")
    parser.add_argument("--flat-runs", type=int, default=FLAT_RUNS_MIN,
                        help=f"flat runs in all, round-robin over the {len(FLAT_KINDS)} kinds")
    parser.add_argument("--flat-iterations", type=int, default=2000)
    parser.add_argument("--pace-ms", type=float, default=0.0,
                        help="sleep per step (0: none; 2: the earlier version's pace, ~50 iterations per sample)")
    parser.add_argument("--lengths", default=",".join(map(str, LENGTHS)),
                        help="iteration counts to judge at, comma-separated")
    parser.add_argument("--separate-lengths", action="store_true",
                        help="one soak per length instead of truncating the longest run")
    parser.add_argument("--planting", choices=tuple(LEAK_FACTORIES), default="exact",
                        help="exact: kept memory == nominal size; payload: nominal payload plus headers")
    parser.add_argument("--skip-flats", action="store_true", help="planted leaks only")
    parser.add_argument("--until-decided", action="store_true",
                        help="stop each strategy once its verdict is settled (implies --separate-lengths: a "
                             "stopped run cannot be truncated to a longer length)")
    parser.add_argument("--json", type=Path, help="write every run's row here")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a deleted temp dir)")
    args = parser.parse_args()
    args.lengths = sorted({int(part) for part in args.lengths.split(",") if part.strip()})
    return args


def _run_all(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """(planted-leak records, flat records), the run folders in a scratch folder kept only with --keep-runs."""
    with runs_folder(args.keep_runs, "sensitivity") as scratch:
        Progress.say(f"run folders in {scratch}")
        leak_records = run_leaks(args, scratch)
        flat_records = [] if args.skip_flats else run_flats(args, scratch)
    return leak_records, flat_records


def main() -> None:
    args = _parse_args()
    if args.until_decided:
        args.separate_lengths = True
    if args.flat_runs < FLAT_RUNS_MIN:
        Progress.say(f"note: {args.flat_runs} flat runs, fewer than the {FLAT_RUNS_MIN} the false-leak target needs")
    leak_records, flat_records = _run_all(args)
    frame = pd.DataFrame(leak_records)
    longest = max(args.lengths)
    print_leaks(args, frame, longest)
    false_leaks = print_flats(args, flat_records) if flat_records else 0
    print_targets(args, frame, flat_records, false_leaks, longest)
    write_json(args.json, {"args": {key: (str(value) if isinstance(value, Path) else value)
                                     for key, value in vars(args).items()},
                            "leaks": leak_records, "flats": flat_records})
    sys.stdout.flush()

if __name__ == "__main__":
    main()
