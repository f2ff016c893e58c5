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
import collections
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
BENCH_STEPS = REPO / "benchmarks" / "workloads" / "bench_steps.py"
LEAK_SIZES_BYTES = (64, 256, 1024, 4096, 16384, 65536)
LEAK_KINDS = ("python", "native")
LENGTHS = (500, 1000, 5000)
WARMUP = 20
# One flat run of each kind per turn, so any --flat-runs count spreads evenly over the kinds.
FLAT_KINDS = ("python_flat", "numpy_flat", "tf_finalized_flat", "keras_call_flat", "saved_model_flat",
              "tf_constant_flat", "native_malloc_free_flat")
FLAT_RUNS_MIN = 30
# The targets: found by this many iterations with the slope within this relative error.
TARGET_ITERATIONS = 5000
TARGET_SLOPE_ERROR = 0.20
TARGET_BYTES = 256
STRETCH_BYTES = 64
# The earlier goal, kept so results stay comparable with the previous tables in docs/benchmarks.md.
FOUND_ALL_FROM_BYTES = 1024
LEAK_FACTORIES = {
    "exact": {"python": "python_exact_leak", "native": "native_exact_leak"},
    "payload": {"python": "python_leak", "native": "native_leak"},
}


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


UNTIL_DECIDED = False  # --until-decided: every soak stops each strategy once its verdict is settled


def soak(out: Path, specs, iterations: int) -> dict:
    from leakhunt import runner
    from leakhunt.rundir.config import RunConfig

    result = runner.run(RunConfig(attribute="off", strategies=tuple(specs), out_dir=out, iterations=iterations,
                                  warmup_steps=WARMUP, show_progress=False, until_decided=UNTIL_DECIDED))
    if result.interrupted:
        raise KeyboardInterrupt
    return dict(result.summary)


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
        status = json.loads((folder / "status.json").read_text())
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
    from leakhunt.rundir.config import StrategySpec

    pace_s = args.pace_ms / 1000
    longest = max(args.lengths)
    factories = LEAK_FACTORIES[args.planting]
    rows: list[dict] = []
    for repeat in range(args.repeats):
        def specs(iterations: int):
            kwargs_extra = {"slots": WARMUP + iterations + 100} if args.planting == "exact" else {}
            return [StrategySpec(f"{kind}-{size}", f"{BENCH_STEPS}:{factories[kind]}",
                                 {"bytes_per_step": size, "pace_s": pace_s,
                                  **(kwargs_extra if kind == "python" else {})})
                    for kind in LEAK_KINDS for size in LEAK_SIZES_BYTES]

        if args.separate_lengths:
            for length in args.lengths:
                _progress(f"leaks, repeat {repeat + 1}/{args.repeats}: one soak of {length} iterations")
                summary = soak(scratch / f"leaks-{repeat}-{length}", specs(length), length)
                rows += leak_rows(summary, length, repeat)
        else:
            _progress(f"leaks, repeat {repeat + 1}/{args.repeats}: one soak of {longest} iterations, judged at "
                      f"{', '.join(map(str, args.lengths))}")
            run = scratch / f"leaks-{repeat}"
            soak(run, specs(longest), longest)
            for length in args.lengths:
                rows += leak_rows(truncated_summary(run, length, scratch), length, repeat)
    return rows


def run_flats(args, scratch: Path) -> list[dict]:
    from leakhunt.rundir.config import StrategySpec

    pace_s = args.pace_ms / 1000
    specs = []
    for index in range(args.flat_runs):
        kind = FLAT_KINDS[index % len(FLAT_KINDS)]
        specs.append(StrategySpec(f"{kind}-{index}", f"{BENCH_STEPS}:{kind}", {"pace_s": pace_s}))
    _progress(f"flats: {len(specs)} runs of {args.flat_iterations} iterations ({len(FLAT_KINDS)} kinds)")
    summary = soak(scratch / "flat", specs, args.flat_iterations)
    rows = []
    for entry in summary["strategies"]:
        slope, series = measured_slope(entry)
        rows.append({"kind": entry["name"].rsplit("-", 1)[0], "name": entry["name"], "verdict": entry["verdict"],
                     "pattern": entry.get("pattern"), "verdict_reason": entry.get("verdict_reason"),
                     "deciding_series": entry.get("deciding_series"), "slope": slope, "slope_series": series,
                     "latency_p50_ms": (entry.get("latency_ms") or {}).get("p50")})
    return rows


# ---------------------------------------------------------------------------------------------- reporting
def _size(value: int) -> str:
    return f"{value // 1024} KiB" if value >= 1024 else f"{value} B"


def _pct(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:+.1%}"


def print_leak_table(frame: pd.DataFrame, lengths: list[int]) -> None:
    longest = max(lengths)
    header = ("| planted | kind | " + " | ".join(f"{length} it" for length in lengths)
              + f" | median slope error at {longest} (range) | slope series at {longest} |")
    print(header)
    print("|---:|---|" + "---:|" * len(lengths) + "---:|---|")
    for (size, kind), group in frame.groupby(["bytes_per_iter", "kind"], sort=True):
        cells = []
        for length in lengths:
            at = group[group.iterations == length]
            rate = (at.verdict == "leak").mean()
            cells.append(f"**{rate:.0%}**" if rate == 1 else f"{rate:.0%}")
        last = group[group.iterations == longest]
        errors = last.slope_error.dropna()
        error = "-" if errors.empty else _pct(errors.median())
        if len(errors) > 1:
            error += f" ({_pct(errors.min())} .. {_pct(errors.max())})"
        series = ", ".join(f"{name} {count}" for name, count in collections.Counter(last.slope_series).most_common())
        kind_text = "Python" if kind == "python" else kind
        print(f"| {_size(size)} | {kind_text} | {' | '.join(cells)} | {error} | {series} |")


def target_met(frame: pd.DataFrame, size: int, at_iterations: int) -> tuple[bool, str]:
    """Every run of `size` (both kinds) called a leak at `at_iterations`, with |slope error| <= 20%."""
    runs = frame[(frame.bytes_per_iter == size) & (frame.iterations == at_iterations)]
    if runs.empty:
        return False, "not measured"
    found = runs.verdict == "leak"
    close = runs.slope_error.abs() <= TARGET_SLOPE_ERROR
    parts = []
    for kind, group in runs.groupby("kind"):
        parts.append(f"{kind}: found {(group.verdict == 'leak').sum()}/{len(group)}, slope error "
                     + ", ".join(_pct(value) for value in group.slope_error))
    return bool((found & close).all()), "; ".join(parts)


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
    if args.keep_runs:
        args.keep_runs.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="sensitivity-", dir=args.keep_runs))
    else:
        scratch = Path(tempfile.mkdtemp(prefix="leakhunt-sensitivity-"))
    _progress(f"run folders in {scratch}")
    try:
        leak_records = run_leaks(args, scratch)
        flat_records = [] if args.skip_flats else run_flats(args, scratch)
    finally:
        if not args.keep_runs:
            shutil.rmtree(scratch, ignore_errors=True)
    return leak_records, flat_records


def _print_leaks(args: argparse.Namespace, frame: pd.DataFrame, longest: int) -> None:
    how = "one soak per length" if args.separate_lengths else f"the first N iterations of a {longest}-iteration run"
    print()
    print(f"planted leaks ({args.planting} planting, pace {args.pace_ms:g} ms, {args.repeats} run(s) per cell, "
          f"{how}): detection rate (verdict == leak) and slope error (measured / planted - 1)")
    print()
    print_leak_table(frame, args.lengths)
    if args.until_decided:
        print()
        print("--until-decided: iterations each planted leak ran before it stopped (median over runs)")
        print("| planted | kind | max iterations | median iterations run | stopped early |")
        print("|---:|---|---:|---:|---:|")
        for (size, kind, length), group in frame.groupby(["bytes_per_iter", "kind", "iterations"]):
            print(f"| {_size(size)} | {kind} | {length} | {statistics.median(group.iterations_used):.0f} | "
                  f"{group.stopped_early.mean():.0%} |")
    missed = frame[(frame.iterations == longest) & (frame.verdict != "leak")]
    if not missed.empty:
        print()
        print(f"not called a leak at {longest} iterations:")
        for row in missed.itertuples():
            print(f"- {row.kind} {_size(row.bytes_per_iter)}: {row.verdict} ({row.pattern}, deciding "
                  f"{row.deciding_series}): {row.verdict_reason}")


def _print_flats(args: argparse.Namespace, flat_records: list[dict]) -> int:
    """The flat runs' table; returns how many were called a leak."""
    flats = pd.DataFrame(flat_records)
    false_leaks = int((flats.verdict == "leak").sum())
    print()
    print(f"flat runs: {len(flats)} ({args.flat_iterations} iterations each, pace {args.pace_ms:g} ms); "
          f"called a leak: **{false_leaks}** (false-leak rate {false_leaks / len(flats):.0%})")
    print()
    print("| flat kind | runs | verdicts | median slope | median p50 step |")
    print("|---|---:|---|---:|---:|")
    for kind in FLAT_KINDS:
        group = flats[flats.kind == kind]
        if group.empty:
            continue
        verdicts = ", ".join(f"{name} {count}" for name, count in collections.Counter(group.verdict).most_common())
        slopes = [value for value in group.slope if value is not None and not pd.isna(value)]
        latencies = [value for value in group.latency_p50_ms if value is not None and not pd.isna(value)]
        slope = f"{statistics.median(slopes):+.1f} B/iter" if slopes else "-"
        latency = f"{statistics.median(latencies):.3f} ms" if latencies else "-"
        print(f"| `{kind}` | {len(group)} | {verdicts} | {slope} | {latency} |")
    odd = flats[flats.verdict != "flat"]
    if not odd.empty:
        print()
        print("flat runs not called flat:")
        for row in odd.itertuples():
            print(f"- {row.name}: {row.verdict} ({row.pattern}, deciding {row.deciding_series}): "
                  f"{row.verdict_reason}")
    return false_leaks


def _print_targets(args: argparse.Namespace, frame: pd.DataFrame, flat_records: list[dict], false_leaks: int,
                   longest: int) -> None:
    print()
    judged_at = TARGET_ITERATIONS if TARGET_ITERATIONS in args.lengths else longest
    note = "" if judged_at == TARGET_ITERATIONS else f" (judged at {judged_at}: {TARGET_ITERATIONS} not run)"
    for label, size in (("target", TARGET_BYTES), ("stretch", STRETCH_BYTES)):
        met, detail = target_met(frame, size, judged_at)
        print(f"{label}: {size} B/iter found by {TARGET_ITERATIONS} iterations with slope within "
              f"{TARGET_SLOPE_ERROR:.0%}: {'met' if met else 'MISSED'}{note} ({detail})")
    big = frame[(frame.bytes_per_iter >= FOUND_ALL_FROM_BYTES) & (frame.iterations == judged_at)]
    found_all = bool(not big.empty and (big.verdict == "leak").all())
    print(f"every leak >= {_size(FOUND_ALL_FROM_BYTES)}/iter found by {TARGET_ITERATIONS} iterations: "
          f"{'met' if found_all else 'MISSED'}{note}")
    if flat_records:
        print(f"no flat run called a leak ({len(flat_records)} runs): {'met' if false_leaks == 0 else 'MISSED'}"
              f"{'' if len(flat_records) >= FLAT_RUNS_MIN else f' (fewer than {FLAT_RUNS_MIN} runs)'}")


def main() -> None:
    args = _parse_args()
    if args.until_decided:
        global UNTIL_DECIDED
        UNTIL_DECIDED = True
        args.separate_lengths = True
    if args.flat_runs < FLAT_RUNS_MIN:
        _progress(f"note: {args.flat_runs} flat runs, fewer than the {FLAT_RUNS_MIN} the false-leak target needs")
    leak_records, flat_records = _run_all(args)
    frame = pd.DataFrame(leak_records)
    longest = max(args.lengths)
    _print_leaks(args, frame, longest)
    false_leaks = _print_flats(args, flat_records) if flat_records else 0
    _print_targets(args, frame, flat_records, false_leaks, longest)
    if args.json:
        args.json.write_text(json.dumps({"args": {key: (str(value) if isinstance(value, Path) else value)
                                                  for key, value in vars(args).items()},
                                         "leaks": leak_records, "flats": flat_records}, indent=1, default=str))
        print(f"raw results: {args.json}")
    sys.stdout.flush()

if __name__ == "__main__":
    main()
