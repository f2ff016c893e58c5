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
import ast
import collections
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))  # hog.py

STABILITY_STEPS = REPO / "benchmarks" / "workloads" / "stability_steps.py"
PATTERNS_DIR = REPO / "examples" / "tf_patterns"
# Files in PATTERNS_DIR that are tools, not patterns (they have no make() anyway; this skips parsing them).
NOT_PATTERNS = {"measure_truth"}
TRUTHS = ("leak", "plateau", "flat")
# The CLI's default warm-up: the benchmark judges what a user running `leakhunt soak` would see.
WARMUP_STEPS = 10
DEFAULT_REPEATS = 5
# Each repeat runs every case in both modes: "default" (stopped once settled, what `leakhunt soak` does) and
# "exact" (every iteration, --exact). A verdict must not depend on the mode.
MODES = ("default", "exact")
QUICK_REPEATS = 2  # one quiet, one loaded
DEFAULT_PATTERN_ITERATIONS = 1000
# --quick runs patterns at this share of their iterations (at least QUICK_MIN_ITERATIONS): a smoke test
# of the benchmark, whose agreement figures mean little.
QUICK_PATTERN_SHARE = 0.25
QUICK_MIN_ITERATIONS = 100


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    group: str  # builtin | fast | patterns
    truth: str
    iterations: int
    quick_iterations: int
    factory: str  # "file.py:func" or leakhunt's built-in factory
    factory_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    truth_bytes_per_iter: float | None = None
    description: str = ""
    code_pattern: str = ""


def _builtin_case(strategy: str, truth: str, iterations: int, quick_iterations: int) -> Case:
    from leakhunt.runner.soak_setup import builtin_specs

    (spec,) = builtin_specs([strategy], "tiny", None, [], [], [], None, None, 0, use_default_set=False)
    return Case(strategy, "builtin", truth, iterations, quick_iterations, spec.factory, dict(spec.factory_kwargs),
                description=spec.description, code_pattern=spec.code_pattern)


def _fast_cases() -> list[Case]:
    truths = _module_constants(STABILITY_STEPS)
    truth, truth_bytes = truths["TRUTH"], truths.get("TRUTH_BYTES_PER_ITER", {})
    # (name, iterations, quick iterations): quick still covers what makes the truth (lru: its 2000 fills).
    # (case, factory, iterations, quick iterations): quick still covers what makes the truth (lru: its 2000 fills).
    plan = [("keep_4k_fast", "keep_4k_fast", 2000, 1000), ("numpy_flat_fast", "numpy_flat_fast", 1000, 500),
            ("bounded_sawtooth_fast", "bounded_sawtooth_fast", 3000, 1500),
            ("lru_fills_then_stops", "lru_fills_then_stops", 6000, 4000), ("linear_1k", "linear_1k", 5000, 2000),
            ("tf_flat_loop", "tf_flat_loop", 2000, 500),
            # Wide teeth read at ~13 readings a tooth (20000 iterations) and at one a step (3000): one verdict.
            ("sawtooth_640_20k", "sawtooth_640_fast", 20000, 20000),
            ("sawtooth_640_3k", "sawtooth_640_fast", 3000, 3000),
            ("python_256b", "python_256b", 5000, 5000), ("python_64b", "python_64b", 5000, 5000),
            ("cycle_garbage_fast", "cycle_garbage_fast", 5000, 3000)]
    return [Case(name, "fast", truth[factory], iterations, quick, f"{STABILITY_STEPS}:{factory}",
                 truth_bytes_per_iter=truth_bytes.get(factory)) for name, factory, iterations, quick in plan]


def _module_constants(path: Path) -> dict[str, Any]:
    """Top-level literal assignments of a module, read without importing it (patterns import TensorFlow)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError):
                    pass  # computed at import time: not a constant we can use
    constants["__functions__"] = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return constants


def discover_patterns(folder: Path = PATTERNS_DIR) -> tuple[list[Case], list[str]]:
    """Every examples/tf_patterns module with make() and a valid TRUTH, and why the others were skipped."""
    cases: list[Case] = []
    skipped: list[str] = []
    if not folder.is_dir():
        return cases, [f"{folder}: no such folder"]
    for path in sorted(folder.glob("*.py")):
        if path.stem.startswith("_") or path.stem in NOT_PATTERNS:
            continue
        try:
            constants = _module_constants(path)
        except (SyntaxError, UnicodeDecodeError, OSError) as error:
            skipped.append(f"{path.name}: cannot be parsed ({error})")
            continue
        if "make" not in constants["__functions__"]:
            skipped.append(f"{path.name}: no top-level make()")
            continue
        truth = constants.get("TRUTH")
        if truth not in TRUTHS:
            skipped.append(f"{path.name}: TRUTH is {truth!r}, not one of {', '.join(TRUTHS)}")
            continue
        # BENCH_ITERATIONS if the pattern names one; else the count its truth was measured with
        # (measure_truth.py's TRUTH_ITERATIONS: a plateau may need that long to fill); else the default.
        iterations = int(constants.get("BENCH_ITERATIONS") or constants.get("TRUTH_ITERATIONS")
                         or DEFAULT_PATTERN_ITERATIONS)
        quick = min(iterations, max(QUICK_MIN_ITERATIONS, int(iterations * QUICK_PATTERN_SHARE)))
        truth_bytes = constants.get("TRUTH_BYTES_PER_ITER")
        if not isinstance(truth_bytes, (int, float)) or (truth == "leak" and truth_bytes <= 0):
            truth_bytes = None  # absent, computed at import time, or a leak's 0 placeholder: shown as "-"
        cases.append(Case(path.stem, "patterns", truth, iterations, quick, f"{path}:make",
                          truth_bytes_per_iter=None if truth_bytes is None else float(truth_bytes)))
    return cases, skipped


def all_cases(patterns_dir: Path = PATTERNS_DIR) -> tuple[list[Case], list[str]]:
    cases = [_builtin_case("tutorial", "leak", 150, 50), _builtin_case("reset-graph", "plateau", 150, 50)]
    cases += _fast_cases()
    patterns, skipped = discover_patterns(patterns_dir)
    taken = {case.name for case in cases}
    for case in patterns:
        # A pattern may share a name with a fast case; keep both, tell them apart by folder.
        cases.append(case if case.name not in taken else dataclasses.replace(case, name=f"tf_patterns/{case.name}"))
    return cases, skipped


def select(cases: list[Case], wanted: str | None) -> list[Case]:
    if not wanted:
        return cases
    by_name = {case.name: case for case in cases}
    groups = collections.defaultdict(list)
    for case in cases:
        groups[case.group].append(case)
    chosen: list[Case] = []
    for name in (part.strip() for part in wanted.split(",") if part.strip()):
        found = groups.get(name) or ([by_name[name]] if name in by_name else None)
        if found is None:
            raise SystemExit(f"unknown case {name!r}; known: {', '.join(by_name)} "
                             f"(groups: {', '.join(groups)})")
        chosen += [case for case in found if case not in chosen]
    return chosen


# ------------------------------------------------------------------------------------------------ running
def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def soak(cases: list[Case], iterations: int, out_dir: Path, hog_count: int,
         until_decided: bool = False) -> tuple[dict[str, dict], float]:
    """One soak of `cases` at `iterations` (stopping each once settled with `until_decided`, as `leakhunt soak`
    does by default; every iteration otherwise, as --exact); their summary entries by name and the wall time."""
    from hog import cpu_hogs

    from leakhunt import runner
    from leakhunt.errors import LeakhuntError
    from leakhunt.rundir.config import RunConfig, StrategySpec

    specs = tuple(StrategySpec(case.name, case.factory, dict(case.factory_kwargs), case.description,
                               case.code_pattern) for case in cases)
    config = RunConfig(attribute="off", strategies=specs, out_dir=out_dir, iterations=iterations,
                       warmup_steps=WARMUP_STEPS, show_progress=False, until_decided=until_decided)
    started = time.monotonic()
    try:
        with cpu_hogs(hog_count, "constant"):
            result = runner.run(config)
    except Exception as error:  # noqa: BLE001 - any failure of one soak is recorded, not fatal
        # Every workload failed to build, or leakhunt itself failed: report it per case and go on, so one
        # bad soak does not cost the hours of results around it.
        if not isinstance(error, LeakhuntError):
            traceback.print_exc()
        failed = {"verdict": "error", "verdict_reason": f"{type(error).__name__}: {error}"}
        return {case.name: dict(failed) for case in cases}, time.monotonic() - started
    if result.interrupted:
        raise KeyboardInterrupt
    return {entry["name"]: dict(entry) for entry in result.summary["strategies"]}, time.monotonic() - started


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


def run_all(cases: list[Case], repeats: int, quick: bool, hog_count: int, runs_dir: Path,
            records: list[dict], modes: tuple[str, ...] = MODES, first_repeat: int = 0) -> None:
    """Append one record per case, repeat and mode to `records` as soaks finish (kept on Ctrl-C)."""
    by_iterations: dict[int, list[Case]] = collections.defaultdict(list)
    for case in cases:
        by_iterations[case.quick_iterations if quick else case.iterations].append(case)
    # Short soaks first: their results come in while the long ones run.
    ordered = sorted(by_iterations.items())
    soaks_total = repeats * len(ordered) * len(modes)
    soak_index = 0
    benchmark_started = time.monotonic()
    for repeat in range(first_repeat, first_repeat + repeats):
        # Alternate, starting quiet: with an odd count the quiet runs get the extra one.
        condition = "hog" if repeat % 2 else "quiet"
        for iterations, group in ordered:
            for mode in modes:
                soak_index += 1
                names = ", ".join(case.name for case in group)
                _progress(f"soak {soak_index}/{soaks_total} (repeat {repeat + 1}/{first_repeat + repeats}, {condition}"
                          f"{f', {hog_count} hogs' if condition == 'hog' else ''}, {mode}): {iterations} iterations "
                          f"of {names}")
                out_dir = runs_dir / f"r{repeat}-{condition}-{mode}-{iterations}it"
                entries, wall_s = soak(group, iterations, out_dir, hog_count if condition == "hog" else 0,
                                       until_decided=mode == "default")
                for case in group:
                    entry = entries.get(case.name)
                    replayed = _replayed(entry, out_dir, iterations) if mode == "exact" else (None, None)
                    record = _run_record(case, repeat, condition, mode, iterations, entry, wall_s, replayed)
                    records.append(record)
                    mark = "agrees" if record["agrees"] else f"DISAGREES with truth {case.truth}"
                    slope = _rate(record["deciding_slope_bytes_per_iter"])
                    settled = (f"; replayed looks settle {replayed[0]} at {replayed[1]}" if replayed[0]
                               else "; replayed looks never settle" if mode == "exact" else "")
                    _progress(f"    {case.name}: {record['verdict']} ({record['pattern']}, by "
                              f"{record['deciding_series']}, {slope}, drift {record['drift']}, "
                              f"{record['iterations_completed']} it): {mark}{settled}")
                elapsed_s = time.monotonic() - benchmark_started
                _progress(f"    soak took {wall_s:.0f} s; {elapsed_s / 60:.1f} min so far, about "
                          f"{elapsed_s / soak_index * (soaks_total - soak_index) / 60:.0f} min left (rough)")


# ---------------------------------------------------------------------------------------------- reporting
def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    from leakhunt.units import human_rate

    return human_rate(value)


def _share(records: list[dict]) -> str:
    if not records:
        return "-"
    agreeing = sum(record["agrees"] for record in records)
    return f"{agreeing / len(records):.0%} ({agreeing}/{len(records)})"


def case_rows(cases: list[Case], records: list[dict]) -> list[dict[str, Any]]:
    rows = []
    for case in cases:
        for mode in MODES:
            mine = [record for record in records if record["case"] == case.name and record.get("mode") == mode]
            if not mine:
                continue
            slopes = [record["deciding_slope_bytes_per_iter"] for record in mine
                      if record["deciding_slope_bytes_per_iter"] is not None]
            rows.append({
                "case": case.name, "mode": mode, "group": case.group, "truth": case.truth,
                "iterations": mine[0]["iterations"], "runs": len(mine),
                "verdicts": dict(collections.Counter(record["verdict"] for record in mine).most_common()),
                "deciding_series": dict(collections.Counter(record["deciding_series"]
                                                            for record in mine).most_common()),
                "agreement": sum(record["agrees"] for record in mine) / len(mine),
                "agreement_text": _share(mine),
                "quiet_agreement_text": _share([record for record in mine if record["condition"] == "quiet"]),
                "hog_agreement_text": _share([record for record in mine if record["condition"] == "hog"]),
                "median_deciding_slope_bytes_per_iter": statistics.median(slopes) if slopes else None,
                "truth_bytes_per_iter": case.truth_bytes_per_iter,
                "drift_flags": dict(collections.Counter(record.get("drift") for record in mine).most_common()),
                "stopped_at": [record.get("iterations_completed") for record in mine],
            })
    return rows


def mode_rows(cases: list[Case], records: list[dict]) -> list[dict[str, Any]]:
    """Per case: in how many repeats the two modes gave the same verdict and the same drift flag, and whether the
    replayed looks of the exact runs settled on the exact run's final verdict."""
    rows = []
    for case in cases:
        pairs, verdicts_same, drifts_same = 0, 0, 0
        for repeat in sorted({record["repeat"] for record in records if record["case"] == case.name}):
            by_mode = {record["mode"]: record for record in records
                       if record["case"] == case.name and record["repeat"] == repeat}
            if {"default", "exact"} <= set(by_mode):
                pairs += 1
                verdicts_same += by_mode["default"]["verdict"] == by_mode["exact"]["verdict"]
                drifts_same += bool(by_mode["default"]["drift"]) == bool(by_mode["exact"]["drift"])
        exact = [record for record in records if record["case"] == case.name and record.get("mode") == "exact"]
        settled = [record for record in exact if record.get("replay_settled")]
        contradicted = [record for record in settled if record["replay_settled"] != record["verdict"]]
        if pairs or exact:
            rows.append({"case": case.name, "pairs": pairs, "verdicts_same": verdicts_same,
                         "drifts_same": drifts_same, "replays_settled": len(settled),
                         "replays_contradicted": len(contradicted), "exact_runs": len(exact)})
    return rows


def mode_table(rows: list[dict]) -> list[str]:
    lines = ["| case | same verdict, default vs exact | same drift flag | exact runs whose replayed looks settled "
             "| of them, on another verdict than the final one |", "|---|---:|---:|---:|---:|"]
    for row in rows:
        same = f"{row['verdicts_same']}/{row['pairs']}"
        drift = f"{row['drifts_same']}/{row['pairs']}"
        contradicted = str(row["replays_contradicted"])
        lines.append(f"| `{row['case']}` | {same if row['verdicts_same'] == row['pairs'] else f'**{same}**'} "
                     f"| {drift if row['drifts_same'] == row['pairs'] else f'**{drift}**'} "
                     f"| {row['replays_settled']}/{row['exact_runs']} "
                     f"| {contradicted if contradicted == '0' else f'**{contradicted}**'} |")
    return lines


def _counts(counter: dict) -> str:
    return ", ".join(f"{'-' if name is None else name} {count}" for name, count in counter.items())


def _error_suffix(record: dict) -> str:
    return f" [{record['error_text']}]" if record.get("error_text") else ""


def markdown_table(rows: list[dict]) -> list[str]:
    lines = [("| case | mode | truth | iterations | verdicts seen | agreement | quiet | with CPU hogs "
              "| median deciding slope | truth slope | deciding series | drift flagged |"),
             "|---|---|---|---:|---|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        agreement = row["agreement_text"] if row["agreement"] == 1 else f"**{row['agreement_text']}**"
        lines.append(
            f"| `{row['case']}` | {row['mode']} | {row['truth']} | {row['iterations']} | {_counts(row['verdicts'])} "
            f"| {agreement} "
            f"| {row['quiet_agreement_text']} | {row['hog_agreement_text']} "
            f"| {_rate(row['median_deciding_slope_bytes_per_iter'])} | {_rate(row['truth_bytes_per_iter'])} "
            f"| {_counts(row['deciding_series'])} | {_counts(row['drift_flags'])} |")
    return lines


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
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args()


def _run_chosen(args: argparse.Namespace, chosen: list[Case], repeats: int) -> tuple[list[dict], bool]:
    """(every run's record, interrupted): the soaks of the chosen cases, run folders kept only with --keep-runs."""
    if args.keep_runs:
        args.keep_runs.mkdir(parents=True, exist_ok=True)
        runs_dir = Path(tempfile.mkdtemp(prefix="stability-", dir=args.keep_runs))
    else:
        runs_dir = Path(tempfile.mkdtemp(prefix="leakhunt-stability-"))
    _progress(f"{len(chosen)} case(s) x {repeats} repeat(s){' (quick)' if args.quick else ''}; "
              f"run folders in {runs_dir}")
    records: list[dict] = []
    interrupted = False
    try:
        modes = tuple(mode.strip() for mode in args.modes.split(",") if mode.strip())
        if not set(modes) <= set(MODES):
            raise SystemExit(f"--modes: {args.modes!r}; known: {', '.join(MODES)}")
        run_all(chosen, repeats, args.quick, args.hogs, runs_dir, records, modes, args.first_repeat)
    except KeyboardInterrupt:
        interrupted = True  # report what was measured; hours of soaks should not vanish with one Ctrl-C
        _progress("interrupted: the results below cover the soaks that finished")
    finally:
        if not args.keep_runs:
            shutil.rmtree(runs_dir, ignore_errors=True)
    return records, interrupted


def _print_disagreements(records: list[dict]) -> None:
    disagreeing = [record for record in records if not record["agrees"]]
    if not disagreeing:
        return
    print()
    print("runs that disagreed with the truth:")
    for record in disagreeing:
        deciding = record["deciding_series"] or "-"
        print(f"- `{record['case']}` repeat {record['repeat'] + 1} ({record['condition']}, {record['mode']}): "
              f"{record['verdict']} "
              f"(truth {record['truth']}; pattern {record['pattern']}, deciding {deciding}, "
              f"{_rate(record['deciding_slope_bytes_per_iter'])}): {record['verdict_reason']}"
              f"{_error_suffix(record)}")


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
    for line in markdown_table(rows):
        print(line)
    modes_table = mode_rows(chosen, records)
    if modes_table:
        print()
        print("the two modes: the same verdict and drift flag in each repeat; the exact runs' looks replayed")
        print()
        for line in mode_table(modes_table):
            print(line)
    _print_disagreements(records)
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
        _progress(f"skipping pattern {reason}")
    if args.list:
        for case in cases:
            print(f"{case.name:<28} {case.group:<9} truth {case.truth:<8} {case.iterations} iterations "
                  f"(quick {case.quick_iterations})")
        return 0
    chosen = select(cases, args.cases)
    records, interrupted = _run_chosen(args, chosen, repeats)
    rows, modes_table, missed = _print_results(args, chosen, records, repeats, interrupted)
    if args.json:
        args.json.write_text(json.dumps({"repeats": repeats, "quick": args.quick, "hogs": args.hogs,
                                         "interrupted": interrupted,
                                         "warmup_steps": WARMUP_STEPS, "cases": rows, "modes": modes_table,
                                         "runs": records,
                                         "skipped_patterns": skipped}, indent=1))
        print(f"raw results: {args.json}")
    return 130 if interrupted else (0 if rows and not missed else 1)

if __name__ == "__main__":
    sys.exit(main())
