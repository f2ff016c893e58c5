"""Time to verdict: how much wall time does `--until-decided` (the default) save over `--exact`, and does it
reach the same verdicts?

Runs the default comparison (tutorial, persistent, reset-graph, saved-model) on the `tiny` preset twice,
one soak after the other, through the CLI exactly as a user would:

    python -m leakhunt soak --preset tiny --iterations N --out DIR --no-progress            # until decided
    python -m leakhunt soak --preset tiny --iterations M --out DIR --no-progress --exact    # the baseline

and prints the wall time of each soak, per strategy `wall_time_s`, iterations completed, `stopped_early`
and `stop_reason`, the verdicts side by side, the speed-up ratio and whether the verdicts agree.

`--exact` at 5000 iterations takes over two hours on a 2-core CPU (the tutorial and reset-graph patterns
cost ~0.7 s per call), so `--exact-iterations M` runs the baseline at M < N and extrapolates its wall
time to N, per strategy: the setup (child start, model load, warm-up, close: `wall_time_s` minus the
measured loop) plus N times the measured per-iteration time of the loop at M, plus the parent's own
time. Every figure is labelled `measured` or `extrapolated`. A strategy whose latency rises over the run
(the tutorial pattern grows its graph every call) takes longer than that straight line: its
extrapolation is a lower bound, marked ">=". Verdicts of a baseline at M < N cover M iterations only.

    python benchmarks/time_to_verdict.py                                   # N = 5000, exact at 5000: hours
    python benchmarks/time_to_verdict.py --exact-iterations 300            # exact at 300, extrapolated to 5000
    python benchmarks/time_to_verdict.py --iterations 2000 --skip-exact    # the until-decided side only
    python benchmarks/time_to_verdict.py --iterations 200 --exact-iterations 30 --json /tmp/ttv.json

The until-decided soak runs first: if the embedded model's cache is cold, that soak pays for building it,
which can only understate the speed-up. The parent's wall time is measured around each CLI process, so it
includes Python and TensorFlow start-up and building the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _harness import (
    REPO,
    Progress,
    markdown_table,
    measured_loop,
    read_summary,
    run_cli,
    runs_folder,
    strategy_folder_named,
    write_json,
)

DEFAULT_ITERATIONS = 5000
PRESET = "tiny"
# A latency rise (first to last fifth of the measured iterations) above this makes the straight-line
# extrapolation a lower bound: the drift test's own 10% bar.
RISING_LATENCY_FRACTION = 0.10


def soak(iterations: int, exact: bool, out_dir: Path, workloads: list[str]) -> dict[str, Any]:
    """One CLI soak; returns its wall time, exit code and summary.json (the CLI's output goes to stderr). The
    CLI, not leakhunt.soak(): the wall time a user waits includes Python's and TensorFlow's start-up."""
    # The verdict pass alone: a leaking strategy's attribution pass (--attribute auto) has its own cost, measured
    # by benchmarks/attribution.py.
    arguments = ["soak", "--iterations", str(iterations), "--out", str(out_dir), "--no-progress", "--attribute", "off"]
    arguments += [part for target in workloads for part in ("--workload", target)] if workloads else ["--preset",
                                                                                                       PRESET]
    if exact:
        arguments.append("--exact")
    Progress.say(f"{'exact' if exact else 'until-decided'}: {' '.join(['-m', 'leakhunt', *arguments])}")
    # stdout too goes to our stderr: this script's stdout is the report alone.
    completed, wall_s = run_cli(*arguments, cwd=REPO, stdout=sys.stderr, check=False)
    if completed.returncode == 130:
        raise KeyboardInterrupt
    if not (out_dir / "summary.json").is_file():
        raise RuntimeError(f"the soak exited {completed.returncode} without writing {out_dir / 'summary.json'}")
    strategies = [strategy_facts(out_dir, entry) for entry in read_summary(out_dir)["strategies"]]
    return {"iterations_max": iterations, "exact": exact, "wall_s": wall_s, "exit_code": completed.returncode,
            "strategies": strategies, "out_dir": str(out_dir), "command": ["-m", "leakhunt", *arguments]}


def strategy_facts(out_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    loop_s, steps, change = measured_loop(strategy_folder_named(out_dir, entry["name"]))
    wall_s = entry.get("wall_time_s")
    return {
        "name": entry["name"], "verdict": entry.get("verdict"), "pattern": entry.get("pattern"),
        "deciding_series": entry.get("deciding_series"),
        "iterations_completed": entry.get("iterations_completed"), "stopped_early": entry.get("stopped_early"),
        "stop_reason": entry.get("stop_reason"), "wall_time_s": wall_s,
        "loop_s": loop_s, "setup_s": None if wall_s is None or loop_s is None else wall_s - loop_s,
        "per_iteration_s": None if not loop_s or not steps else loop_s / steps,
        "latency_p50_ms": (entry.get("latency_ms") or {}).get("p50"),
        "latency_change_first_to_last_fifth": change,
    }


def _rising(facts: dict[str, Any] | None) -> bool:
    return facts is not None and (facts["latency_change_first_to_last_fifth"] or 0.0) >= RISING_LATENCY_FRACTION


def extrapolate(exact: dict[str, Any], iterations: int, decided: dict[str, Any]) -> dict[str, Any]:
    """The exact soak's wall time at `iterations`, per strategy and in all, from its run at fewer.

    A strategy whose latency rose in either soak (the until-decided one often ran longer) gets a lower bound.
    """
    decided_by_name = {facts["name"]: facts for facts in decided["strategies"]}
    per_strategy: dict[str, dict[str, Any]] = {}
    for facts in exact["strategies"]:
        if facts["per_iteration_s"] is None or facts["setup_s"] is None:
            per_strategy[facts["name"]] = {"wall_s": None, "lower_bound": False}
            continue
        rising = _rising(facts) or _rising(decided_by_name.get(facts["name"]))
        per_strategy[facts["name"]] = {"wall_s": facts["setup_s"] + facts["per_iteration_s"] * iterations,
                                       "lower_bound": rising}
    strategy_walls = [facts["wall_time_s"] or 0.0 for facts in exact["strategies"]]
    parent_s = exact["wall_s"] - sum(strategy_walls)  # interpreter start-up, report building
    known = [value["wall_s"] for value in per_strategy.values()]
    total = None if any(value is None for value in known) else parent_s + sum(known)
    return {"per_strategy": per_strategy, "parent_s": parent_s, "wall_s": total,
            "lower_bound": any(value["lower_bound"] for value in per_strategy.values())}


# ----------------------------------------------------------------------------------------------- report
def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 3600:
        return f"{value / 3600:.2f} h"
    if value >= 120:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s"


def _ms(value_s: float | None) -> str:
    if value_s is None:
        return "-"
    # Fast custom workloads (the smoke test) run in microseconds.
    return f"{value_s * 1e3:.1f} ms" if value_s >= 0.001 else f"{value_s * 1e6:.1f} us"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def _ms_to_s(value_ms: float | None) -> float | None:
    return None if value_ms is None else value_ms / 1e3


def run_table(title: str, run: dict[str, Any]) -> list[str]:
    header = ["strategy", "verdict", "iterations completed", "stopped_early", "stop_reason", "wall_time_s",
              "measured loop", "per iteration", "p50 latency", "latency first -> last fifth"]
    rows = [[f"`{facts['name']}`", facts["verdict"], facts["iterations_completed"], facts["stopped_early"],
             facts["stop_reason"], _seconds(facts["wall_time_s"]), _seconds(facts["loop_s"]),
             _ms(facts["per_iteration_s"]), _ms(_ms_to_s(facts["latency_p50_ms"])),
             _pct(facts["latency_change_first_to_last_fifth"])] for facts in run["strategies"]]
    return [f"### {title}: {_seconds(run['wall_s'])} wall in all (measured, exit code {run['exit_code']})", "",
            *markdown_table(header, "llrllrrrrr", rows)]


def comparison(decided: dict[str, Any], exact: dict[str, Any] | None, iterations: int) -> dict[str, Any]:
    """Per strategy and in all: until-decided vs exact wall time (measured or extrapolated) and verdicts."""
    exact_by_name = {facts["name"]: facts for facts in (exact or {}).get("strategies", [])}
    extrapolated = None
    if exact is not None and exact["iterations_max"] != iterations:
        extrapolated = extrapolate(exact, iterations, decided)
    rows = []
    for facts in decided["strategies"]:
        baseline = exact_by_name.get(facts["name"])
        if baseline is None:
            exact_wall, label, lower = None, "-", False
        elif extrapolated is None:
            exact_wall, label, lower = baseline["wall_time_s"], "measured", False
        else:
            guess = extrapolated["per_strategy"][facts["name"]]
            exact_wall, label, lower = guess["wall_s"], "extrapolated", guess["lower_bound"]
        rows.append({
            "name": facts["name"], "decided_verdict": facts["verdict"],
            "decided_iterations": facts["iterations_completed"], "decided_wall_s": facts["wall_time_s"],
            "exact_verdict": None if baseline is None else baseline["verdict"],
            "exact_iterations": None if baseline is None else baseline["iterations_completed"],
            "exact_wall_s": exact_wall, "exact_wall_label": label, "exact_wall_lower_bound": lower,
            "same_verdict": None if baseline is None else baseline["verdict"] == facts["verdict"],
            "speedup": (exact_wall / facts["wall_time_s"] if exact_wall and facts["wall_time_s"] else None),
        })
    if exact is None:
        total_exact, total_label, total_lower = None, "-", False
    elif extrapolated is None:
        total_exact, total_label, total_lower = exact["wall_s"], "measured", False
    else:
        total_exact, total_label, total_lower = extrapolated["wall_s"], "extrapolated", extrapolated["lower_bound"]
    same = [row["same_verdict"] for row in rows if row["same_verdict"] is not None]
    return {"rows": rows, "exact_wall_s": total_exact, "exact_wall_label": total_label,
            "exact_wall_lower_bound": total_lower, "decided_wall_s": decided["wall_s"],
            "speedup": total_exact / decided["wall_s"] if total_exact and decided["wall_s"] else None,
            "verdicts_same": all(same) if same else None, "extrapolation": extrapolated}


def comparison_table(result: dict[str, Any], iterations: int, exact_iterations: int | None) -> list[str]:
    exact_head = (f"exact at {iterations}" if exact_iterations in (None, iterations)
                  else f"exact at {exact_iterations}")
    header = ["strategy", f"until-decided verdict (iterations of {iterations})", f"{exact_head}: verdict",
              "same verdict", "until-decided wall (measured)", f"exact wall at {iterations}", "speed-up"]
    rows = []
    for row in result["rows"]:
        bound = ">= " if row["exact_wall_lower_bound"] else ""
        exact_wall = "-" if row["exact_wall_s"] is None else (
            f"{bound}{_seconds(row['exact_wall_s'])} ({row['exact_wall_label']})")
        speedup = "-" if row["speedup"] is None else f"{bound}{row['speedup']:.1f}x"
        same = {None: "-", True: "yes", False: "**no**"}[row["same_verdict"]]
        exact_count = "-" if row["exact_iterations"] is None else row["exact_iterations"]
        rows.append([f"`{row['name']}`", f"{row['decided_verdict']} ({row['decided_iterations']})",
                     f"{row['exact_verdict'] or '-'} ({exact_count})", same, _seconds(row["decided_wall_s"]),
                     exact_wall, speedup])
    return markdown_table(header, "llllrrr", rows)


def print_report(what: str, iterations: int, exact_iterations: int | None, decided: dict[str, Any],
                 exact: dict[str, Any] | None, result: dict[str, Any]) -> None:
    print()
    print(f"time to verdict: {what}, --iterations {iterations}")
    print()
    for line in run_table(f"until-decided (default), at most {iterations} iterations", decided):
        print(line)
    if exact is not None:
        print()
        for line in run_table(f"--exact, {exact_iterations} iterations", exact):
            print(line)
        extrapolated = result["extrapolation"]
        if extrapolated is not None:
            print()
            print(f"The exact baseline ran {exact_iterations} iterations, not {iterations}: its wall time at "
                  f"{iterations} is EXTRAPOLATED per strategy as setup (wall_time_s minus the measured loop) + "
                  f"{iterations} x the measured per-iteration time, plus the parent's own "
                  f"{_seconds(extrapolated['parent_s'])} (measured). '>=' marks strategies whose latency rose by "
                  f">= {RISING_LATENCY_FRACTION:.0%} over the run (a lower bound). Its verdicts cover "
                  f"{exact_iterations} iterations only.")
    if exact is not None:
        print()
        for line in comparison_table(result, iterations, exact_iterations):
            print(line)
    print()
    if exact is None:
        print(f"until-decided: {_seconds(decided['wall_s'])} (measured); no exact baseline (--skip-exact)")
    else:
        bound = ">= " if result["exact_wall_lower_bound"] else ""
        speedup = "-" if result["speedup"] is None else f"{bound}{result['speedup']:.1f}x"
        same = {None: "-", True: "yes", False: "NO"}[result["verdicts_same"]]
        caveat = "" if exact_iterations == iterations else f" (exact verdicts at {exact_iterations} iterations)"
        print(f"until-decided {_seconds(decided['wall_s'])} (measured) vs exact {bound}"
              f"{_seconds(result['exact_wall_s'])} ({result['exact_wall_label']}) at {iterations} iterations: "
              f"speed-up {speedup}; same verdicts: {same}{caveat}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS,
                        help=f"N: the until-decided soak's maximum, and what the exact wall time is given for "
                        f"(default {DEFAULT_ITERATIONS})")
    parser.add_argument("--exact-iterations", type=int,
                        help="M: run the exact baseline at M iterations and extrapolate its wall time to N "
                        "(default: N, all measured)")
    parser.add_argument("--skip-exact", action="store_true", help="run only the until-decided soak")
    parser.add_argument("--json", type=Path, help="write both runs and the comparison here")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a deleted temp dir)")
    # Smoke tests of this script on fast custom workloads instead of the tiny preset (not a benchmark).
    parser.add_argument("--workload", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.iterations <= 0 or (args.exact_iterations is not None and args.exact_iterations <= 0):
        parser.error("--iterations and --exact-iterations must be > 0")
    if args.exact_iterations is not None and args.exact_iterations > args.iterations:
        parser.error("--exact-iterations must not exceed --iterations (it is the cheaper stand-in for N)")
    exact_iterations = None if args.skip_exact else (args.exact_iterations or args.iterations)

    what = ", ".join(args.workload) if args.workload else f"the default comparison on --preset {PRESET}"
    with runs_folder(args.keep_runs, "ttv") as runs_dir:
        Progress.say(f"time to verdict: {what}; until-decided at most {args.iterations} iterations"
                     + ("" if exact_iterations is None else f", then exact at {exact_iterations}")
                     + f"; run folders in {runs_dir}")
        decided = exact = None
        try:
            decided = soak(args.iterations, False, runs_dir / "until-decided", args.workload)
            if exact_iterations is not None:
                exact = soak(exact_iterations, True, runs_dir / "exact", args.workload)
        except KeyboardInterrupt:
            Progress.say("interrupted")
            return 130

    result = comparison(decided, exact, args.iterations)
    print_report(what, args.iterations, exact_iterations, decided, exact, result)
    write_json(args.json, {"iterations": args.iterations, "exact_iterations": exact_iterations,
                           "workloads": args.workload, "preset": None if args.workload else PRESET,
                           "until_decided": decided, "exact": exact, "comparison": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
