"""Verdict stability: does the same workload get the same (true) verdict run after run, quiet or loaded?

Each case is a workload with a known truth (leak, plateau or flat), soaked `--repeats` times in fresh
children; every other repeat runs with `cpu_hogs(os.cpu_count(), "constant")` busy-looping alongside (a
shared CI runner), the others on a quiet machine. Per case it prints the truth, the verdicts seen, the
agreement with the truth (verdict == truth), quiet vs hog agreement and the median deciding slope; then a
Markdown table for docs/benchmarks.md and one overall line. Target: 100% agreement on every case.

Cases: the built-in `tutorial` (truth leak) and `reset-graph` (plateau) strategies on the `tiny` preset at
150 iterations; the fast workloads of benchmarks/workloads/stability_steps.py (sub-millisecond steps:
many iterations per parent sample); every pattern in examples/tf_patterns/*.py (a module with `make()`,
`TRUTH`, optional `TRUTH_BYTES_PER_ITER`; iterations from `BENCH_ITERATIONS`, else `TRUTH_ITERATIONS`,
else 1000), found at run time by parsing (not importing) the files.

    python benchmarks/verdict_stability.py                          # everything, 5 repeats: hours on 2 cores
    python benchmarks/verdict_stability.py --cases keep_4k_fast,lru_fills_then_stops --repeats 6
    python benchmarks/verdict_stability.py --cases fast                 # a group: builtin, fast, patterns
    python benchmarks/verdict_stability.py --quick --cases keep_4k_fast,numpy_flat_fast   # smoke test
    python benchmarks/verdict_stability.py --json /tmp/stability.json --keep-runs /tmp/stability-runs

Cases with the same iteration count share one soak per repeat (one child per case, one after another, as
always), so a repeat costs one parent start-up per iteration count; hog and quiet repeats never share a soak.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from _harness import WARMUP_STEPS, Progress, conditions, hog_load, interruptible, runs_folder, soak, write_json
from _stability_cases import PATTERNS_DIR, Case, all_cases, select
from _stability_tables import MODES, case_rows, case_table, mode_rows, mode_table, print_disagreements, rate

DEFAULT_REPEATS = 5
QUICK_REPEATS = 2  # one quiet, one loaded
# Each repeat runs every case in both modes (_stability_tables.MODES): "default" (stopped once settled, what
# `leakhunt soak` does) and "exact" (every iteration, --exact). A verdict must not depend on the mode.


def soak_cases(cases: list[Case], iterations: int, out_dir: Path, hog_count: int,
               until_decided: bool = False) -> tuple[dict[str, dict], float]:
    """One soak of `cases` at `iterations` (stopping each once settled with `until_decided`, as `leakhunt soak`
    does by default; every iteration otherwise, as --exact), with `hog_count` CPU hogs alongside; their
    summary entries by name and the wall time."""
    from leakhunt.errors import LeakhuntError

    started = time.monotonic()
    try:
        run = soak([case.strategy() for case in cases], out_dir, iterations=iterations, preset="tiny",
                   until_decided=until_decided, load=hog_load("cpu", hog_count))
    except Exception as error:  # noqa: BLE001 - any failure of one soak is recorded, not fatal
        # Every workload failed to build, or leakhunt itself failed: report it per case and go on, so one
        # bad soak does not cost the hours of results around it.
        if not isinstance(error, LeakhuntError):
            traceback.print_exc()
        failed = {"verdict": "error", "verdict_reason": f"{type(error).__name__}: {error}"}
        return {case.name: dict(failed) for case in cases}, time.monotonic() - started
    return run.entries, run.wall_s


def _replayed(entry: dict | None, out_dir: Path, iterations: int) -> tuple[str | None, int | None]:
    """For an --exact run: the verdict its settle looks would have stopped on (None: never settled)."""
    from settle_replay import settled_verdict

    folder = out_dir / "strategies" / str((entry or {}).get("folder", ""))
    if not entry or not folder.is_dir() or not (folder / "task.json").exists():
        return None, None
    return settled_verdict(folder, iterations)


def _run_record(case: Case, repeat: int, condition: str, mode: str, iterations: int, entry: dict | None,
                soak_wall_s: float, replayed: tuple[str | None, int | None] = (None, None)) -> dict[str, Any]:
    entry = entry or {"verdict": "missing", "verdict_reason": "no summary entry"}
    latency = entry.get("latency_ms") or {}
    return {
        "case": case.name, "group": case.group, "truth": case.truth, "repeat": repeat, "condition": condition,
        "mode": mode, "drift": entry.get("latency_drift_significant"), "stopped_early": entry.get("stopped_early"),
        "stop_reason": entry.get("stop_reason"), "replay_settled": replayed[0], "replay_settled_at": replayed[1],
        "iterations": iterations, "verdict": entry.get("verdict"), "agrees": entry.get("verdict") == case.truth,
        "verdict_reason": entry.get("verdict_reason"), "error_text": entry.get("error_text"),
        "pattern": entry.get("pattern"),
        "deciding_series": entry.get("deciding_series"),
        "deciding_slope_bytes_per_iter": entry.get("deciding_slope_bytes_per_iter"),
        "deciding_slope_per_iter": entry.get("deciding_slope_per_iter"), "deciding_unit": entry.get("deciding_unit"),
        "rss_slope_bytes_per_iter": entry.get("rss_slope_bytes_per_iter"),
        "heap_slope_bytes_per_iter": entry.get("heap_slope_bytes_per_iter"),
        "py_blocks_slope_per_iter": entry.get("py_blocks_slope_per_iter"),
        "iterations_completed": entry.get("iterations_completed"), "outcome": entry.get("outcome"),
        "latency_p50_ms": latency.get("p50"), "truth_bytes_per_iter": case.truth_bytes_per_iter,
        "soak_wall_s": round(soak_wall_s, 1),
    }


def _soak_group(group: list[Case], iterations: int, repeat: int, condition: str, mode: str, hog_count: int,
                runs_dir: Path) -> list[dict[str, Any]]:
    """One soak of a group of cases in one condition and mode; a record per case, said as it comes."""
    out_dir = runs_dir / f"r{repeat}-{condition}-{mode}-{iterations}it"
    entries, wall_s = soak_cases(group, iterations, out_dir, hog_count if condition == "hog" else 0,
                                 until_decided=mode == "default")
    records = []
    for case in group:
        entry = entries.get(case.name)
        replayed = _replayed(entry, out_dir, iterations) if mode == "exact" else (None, None)
        record = _run_record(case, repeat, condition, mode, iterations, entry, wall_s, replayed)
        records.append(record)
        mark = "agrees" if record["agrees"] else f"DISAGREES with truth {case.truth}"
        slope = rate(record["deciding_slope_bytes_per_iter"])
        settled = (f"; replayed looks settle {replayed[0]} at {replayed[1]}" if replayed[0]
                   else "; replayed looks never settle" if mode == "exact" else "")
        Progress.say(f"    {case.name}: {record['verdict']} ({record['pattern']}, by "
                     f"{record['deciding_series']}, {slope}, drift {record['drift']}, "
                     f"{record['iterations_completed']} it): {mark}{settled}")
    return records


def run_all(cases: list[Case], repeats: int, quick: bool, hog_count: int, runs_dir: Path,
            records: list[dict], modes: tuple[str, ...] = MODES, first_repeat: int = 0) -> None:
    """Append one record per case, repeat and mode to `records` as soaks finish (kept on Ctrl-C)."""
    by_iterations: dict[int, list[Case]] = collections.defaultdict(list)
    for case in cases:
        by_iterations[case.quick_iterations if quick else case.iterations].append(case)
    # Short soaks first: their results come in while the long ones run.
    ordered = sorted(by_iterations.items())
    progress = Progress(repeats * len(ordered) * len(modes))
    for repeat, condition in conditions(repeats, first_repeat):
        for iterations, group in ordered:
            for mode in modes:
                names = ", ".join(case.name for case in group)
                hogs = f", {hog_count} hogs" if condition == "hog" else ""
                progress.say(f"soak {progress.done + 1}/{progress.total} (repeat {repeat + 1}/"
                             f"{first_repeat + repeats}, {condition}{hogs}, {mode}): {iterations} iterations of "
                             f"{names}")
                group_records = _soak_group(group, iterations, repeat, condition, mode, hog_count, runs_dir)
                records += group_records
                progress.finished_one(f"soak took {group_records[0]['soak_wall_s']:.0f} s; ")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", help="comma-separated case names or groups (builtin, fast, patterns)")
    parser.add_argument("--repeats", type=int, help=f"runs per case (default {DEFAULT_REPEATS}; "
                        f"{QUICK_REPEATS} with --quick); odd-numbered repeats run with CPU hogs")
    parser.add_argument("--quick", action="store_true", help="smoke test: 2 repeats, shorter runs")
    parser.add_argument("--first-repeat", type=int, default=0,
                        help="number repeats from this one (1: start with a hog repeat, to add one to earlier runs)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="default (stop once settled), exact (every iteration), or both (the default)")
    parser.add_argument("--hogs", type=int, default=os.cpu_count(), help="busy processes in a hog repeat")
    parser.add_argument("--json", type=Path, help="write every run's record and the per-case table here")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a deleted temp dir)")
    parser.add_argument("--patterns-dir", type=Path, default=PATTERNS_DIR, help="where to find the TF patterns")
    parser.add_argument("--iterations-scale", type=float, default=1.0,
                        help="run every case at this multiple of its iterations (2: the same truths at twice the "
                             "length; a verdict that changes with the run length is a bug)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON",
                        help="no soaks: the tables of the runs recorded in these --json files together (repeats "
                             "made in several sittings; --cases still selects)")
    return parser.parse_args()


def merged_records(files: list[Path]) -> list[dict]:
    """Every run record of earlier --json files, each tagged with the file it came from."""
    records = []
    for path in files:
        try:
            runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
        except (OSError, ValueError, KeyError) as error:
            raise SystemExit(f"--merge: cannot read the runs of {path}: {error}") from None
        records += [{**record, "merged_from": str(path)} for record in runs]
    return records


def _run_chosen(args: argparse.Namespace, chosen: list[Case], repeats: int) -> tuple[list[dict], bool]:
    """(every run's record, interrupted): the soaks of the chosen cases, run folders kept only with --keep-runs."""
    modes = tuple(mode.strip() for mode in args.modes.split(",") if mode.strip())
    if not set(modes) <= set(MODES):
        raise SystemExit(f"--modes: {args.modes!r}; known: {', '.join(MODES)}")
    records: list[dict] = []
    with runs_folder(args.keep_runs, "stability") as runs_dir:
        Progress.say(f"{len(chosen)} case(s) x {repeats} repeat(s){' (quick)' if args.quick else ''}; "
                     f"run folders in {runs_dir}")
        with interruptible("soaks") as interrupted:
            run_all(chosen, repeats, args.quick, args.hogs, runs_dir, records, modes, args.first_repeat)
    return records, interrupted[0]


def _print_results(args: argparse.Namespace, chosen: list[Case], records: list[dict], repeats: int,
                   interrupted: bool) -> tuple[list[dict], list[dict], list[str]]:
    """The tables; returns (per-case rows, per-mode rows, the cases below 100%)."""
    rows = case_rows(chosen, records)
    print()
    if interrupted:
        print("INTERRUPTED: partial results")
    print(f"verdict stability: {repeats} repeat(s) per case, alternating quiet / {args.hogs} CPU hogs "
          f"(constant){', --quick' if args.quick else ''}; agreement = verdict == truth")
    print()
    print("\n".join(case_table(rows)))
    modes_table = mode_rows(chosen, records)
    if modes_table:
        print()
        print("the two modes: the same verdict and drift flag in each repeat; the exact runs' looks replayed")
        print()
        print("\n".join(mode_table(modes_table)))
    print_disagreements(records)
    missed = [row["case"] for row in rows if row["agreement"] < 1]
    print()
    below = f" (below 100%: {', '.join(missed)})" if missed else ""
    partial = " (partial: interrupted)" if interrupted else ""
    print(f"100% on every case: {'met' if rows and not missed else 'MISSED'}{below}{partial}")
    return rows, modes_table, missed


def main() -> int:
    args = _parse_args()
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)

    cases, skipped = all_cases(args.patterns_dir)
    for reason in skipped:
        Progress.say(f"skipping pattern {reason}")
    if args.list:
        for case in cases:
            print(f"{case.name:<28} {case.group:<9} truth {case.truth:<8} {case.iterations} iterations "
                  f"(quick {case.quick_iterations})")
        return 0
    chosen = select(cases, args.cases)
    if args.iterations_scale <= 0:
        raise SystemExit(f"--iterations-scale must be positive, not {args.iterations_scale:g}")
    chosen = [dataclasses.replace(case, iterations=max(1, round(case.iterations * args.iterations_scale)),
                                  quick_iterations=max(1, round(case.quick_iterations * args.iterations_scale)))
              for case in chosen]
    if args.merge:
        records, interrupted = merged_records(args.merge), False
        chosen = [case for case in chosen if any(record["case"] == case.name for record in records)]
        records = [record for record in records if record["case"] in {case.name for case in chosen}]
        repeats = len({(record["repeat"], record["condition"]) for record in records})
    else:
        records, interrupted = _run_chosen(args, chosen, repeats)
    rows, modes_table, missed = _print_results(args, chosen, records, repeats, interrupted)
    write_json(args.json, {"repeats": repeats, "quick": args.quick, "hogs": args.hogs, "interrupted": interrupted,
                           "warmup_steps": WARMUP_STEPS, "cases": rows, "modes": modes_table, "runs": records,
                           "skipped_patterns": skipped})
    return 130 if interrupted else (0 if rows and not missed else 1)


if __name__ == "__main__":
    sys.exit(main())
