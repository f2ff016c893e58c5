"""Latency drift: is `latency_drift_significant` silent on flat workloads while the machine's load changes,
and does it flag true slowdowns every time, quiet or loaded?

Flat workloads are soaked while `cpu_hogs(os.cpu_count(), mode)` changes the machine's speed during the
measured iterations: `start_midway` (idle, then every core busy: the raw latency can rise as a step),
`stop_midway` (busy, then gone: it falls) and `ramp` (the hogs' duty cycle rises 0 -> 100% over the run: a
steady raw slowdown, the hardest case), plus quiet runs. Target: **no flat run flagged**. It also counts
the flat runs whose raw latency slowed by >= 10% (and of those, how many the raw test alone would have
flagged: Kendall tau >= 0.5 too), i.e. the slowdowns that only the machine-speed reference correction
removed.

The flat workloads (benchmarks/workloads/drift_steps.py): the four sub-millisecond ones (numpy_flat,
keras_call_flat, tf_constant_flat, tf1_finalized_flat), plus two with steps longer than a scheduler time
slice, where CPU contention stretches the step itself: python_flat_long (~30 ms of pure Python) and
maskrcnn_tiny_persistent (the built-in `persistent` strategy on the `tiny` preset, ~50 ms: the tool's own
use case). `numpy_blas_flat` (OpenBLAS on every core) runs only when named in --cases.

True drifts (tf1_graph_growth, retracing_function, planted_slowdown: +20% of CPU work over its planned
iterations) are soaked quiet, under a constant hog and under a start_midway hog. Target: **every run
flagged**. (stop_midway is left out for them by default: a machine that speeds up hides a CPU-bound
slowdown from the raw test by design, docs/verdicts.md "Latency drift"; add it with --true-loads.)

    python benchmarks/latency_drift.py                          # everything: 60 soaks, ~40-50 min on 2 cores
    python benchmarks/latency_drift.py --quick                  # 1 run per case and load, ~6-9 s loops: ~15 min
    python benchmarks/latency_drift.py --quick --cases numpy_flat,planted_slowdown --loads quiet,start_midway
    python benchmarks/latency_drift.py --cases flat --repeats 3 --json /tmp/drift.json --keep-runs /tmp/drift-runs
    python benchmarks/latency_drift.py --cases numpy_blas_flat,python_flat_long --loads start_midway,ramp

How a run is planned: every run but planted_slowdown's is cut by time (RunConfig.duration_s = --target-s
plus an allowance for the warm-up, which that limit includes: 20 s for the Mask R-CNN, whose first call
optimises the graph for seconds, 3 s for the others); the iteration count is whatever fits. A changing
hog schedule starts when the child starts its first measured iteration (the benchmark watches the child's
progress file) and lasts exactly what is left of the loop's time limit, so "midway" is midway through the
measured loop (which lasts --target-s plus whatever of the allowance the warm-up did not use); a constant
hog starts before the child.
planted_slowdown must know its iteration count in advance (its +20% lands on the last planned iteration):
the parent calibrates the spin loop (median of 51 short probes) to ~1 ms and plans --target-s / 1.1 ms
iterations; under a hog that run simply lasts longer. One strategy per soak (each run needs its own hog
schedule), soaks strictly one after another, never two TensorFlow processes at a time.

Per run it records the summary's `latency_drift_significant`, the raw, corrected and machine changes from
the first to the last fifth of the measured iterations (`latency_change_first_to_last_fifth`,
`latency_corrected_change_first_to_last_fifth`, `machine_change_first_to_last_fifth`), the trend taus,
the reference's p50 and the 1-minute load average before and after (a shared machine: a "quiet" run is
only as quiet as the neighbours). It prints a Markdown table per case and one overall line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _drift_plans import (
    DEFAULT_REPEATS,
    DEFAULT_TARGET_LOOP_S,
    DRIFT_MIN_ITERATIONS,
    FLAT_LOADS,
    QUICK_TARGET_LOOP_S,
    RAW_SLOWDOWN_FRACTION,
    RAW_TREND_TAU,
    TRUE_LOADS,
    UNBOUNDED_ITERATIONS,
    WARMUP_STEPS,
    Plan,
    case_truths,
    make_plans,
    parse_loads,
    run_schedule,
    select_kinds,
)
from _drift_tables import num, pct, print_report
from _drift_watcher import HogWatcher
from _harness import Progress, interruptible, load_average_1m, runs_folder, soak, workload, write_json


@contextlib.contextmanager
def hogs_alongside(plan: Plan, load: str, out_dir: Path, hog_count: int, facts: dict[str, Any]) -> Iterator[None]:
    """The soak's load: nothing (quiet), or a HogWatcher that starts the hogs on the child's schedule; what it
    saw goes into `facts` when the soak ends."""
    if load == "quiet":
        yield
        return
    watcher = HogWatcher(out_dir, hog_count, load, plan)
    watcher.start()
    try:
        if load == "constant":
            # A constant load is on before the child starts: the whole child, build and warm-up included,
            # runs on a loaded machine.
            while not watcher.started_hogs.wait(0.1):
                if not watcher.is_alive():
                    raise RuntimeError(f"constant hogs did not start: {watcher.info.get('hog_error')}")
        yield
    finally:
        watcher.done.set()
        watcher.join()
        facts.update(watcher.info)


def soak_one(plan: Plan, load: str, out_dir: Path, hog_count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One soak of one workload under one load; returns (summary entry, run facts)."""
    facts: dict[str, Any] = {"load_average_1m_before": load_average_1m()}
    started_s = time.monotonic()
    try:
        run = soak([workload(plan.kind, plan.factory, **plan.kwargs)], out_dir, iterations=plan.iterations,
                   duration_s=plan.duration_s, load=hogs_alongside(plan, load, out_dir, hog_count, facts))
    finally:
        facts["soak_wall_s"] = round(time.monotonic() - started_s, 1)
    facts["load_average_1m_after"] = load_average_1m()
    return run.entries[plan.kind], facts


def _record(plan: Plan, load: str, repeat: int, entry: dict[str, Any] | None, facts: dict[str, Any],
            error: str | None) -> dict[str, Any]:
    entry = entry or {}
    latency = entry.get("latency_ms") or {}
    raw = entry.get("latency_change_first_to_last_fifth")
    significant = bool(entry.get("latency_drift_significant"))
    raw_tau = entry.get("latency_trend_tau")
    windows = entry.get("latency_window_medians_ms") or []
    completed = entry.get("iterations_completed")
    error = error or entry.get("error_text")
    if not error and entry and (raw is None or (completed or 0) < DRIFT_MIN_ITERATIONS):
        # No drift analysis at all is not a "not flagged": the run failed to measure anything.
        error = (f"no drift analysis: {completed} measured iterations ({entry.get('verdict')}, "
                 f"{entry.get('stop_reason')})")
    return {
        "kind": plan.kind, "truth": plan.truth, "load": load, "repeat": repeat,
        "iterations_max": plan.iterations, "duration_limit_s": plan.duration_s,
        "iterations_completed": entry.get("iterations_completed"), "error": error,
        "flagged": significant,
        "correct": not error and (not significant if plan.truth == "flat" else significant),
        "latency_faster_over_run": entry.get("latency_faster_over_run"),
        "raw_change": raw, "raw_tau": raw_tau,
        "corrected_change": entry.get("latency_corrected_change_first_to_last_fifth"),
        "corrected_tau": entry.get("latency_corrected_trend_tau"),
        "machine_change": entry.get("machine_change_first_to_last_fifth"),
        "raw_slowdown": raw is not None and raw >= RAW_SLOWDOWN_FRACTION,
        "raw_test_alone_flags": (raw is not None and raw >= RAW_SLOWDOWN_FRACTION and raw_tau is not None
                                 and raw_tau >= RAW_TREND_TAU),
        "first_window_ms": windows[0] if windows else None, "last_window_ms": windows[-1] if windows else None,
        "latency_p50_ms": latency.get("p50"), "reference_p50_ms": entry.get("reference_p50_ms"),
        "reference_readings": entry.get("reference_readings"), "memory_verdict": entry.get("verdict"),
        "wall_time_s": entry.get("wall_time_s"), **facts,
    }


def run_all(plans: dict[str, Plan], schedule: list[tuple[str, str, int]], hog_count: int, runs_dir: Path,
            records: list[dict[str, Any]]) -> None:
    progress = Progress(len(schedule))
    for index, (kind, load, repeat) in enumerate(schedule, 1):
        plan = plans[kind]
        progress.say(f"run {index}/{len(schedule)}: {kind} ({plan.truth}), {load}"
                  f"{f' ({hog_count} hogs)' if load != 'quiet' else ''}, repeat {repeat + 1}, "
                  + (f"{plan.iterations} iterations" if plan.iterations < UNBOUNDED_ITERATIONS
                     else f"{plan.duration_s:g} s of loop"))
        entry: dict[str, Any] | None = None
        facts: dict[str, Any] = {}
        error: str | None = None
        try:
            entry, facts = soak_one(plan, load, runs_dir / f"{index:03d}-{kind}-{load}-r{repeat}", hog_count)
        except KeyboardInterrupt:
            raise
        except Exception as failure:  # noqa: BLE001 - one failed soak is recorded, the others still run
            traceback.print_exc()
            error = f"{type(failure).__name__}: {failure}"
        record = _record(plan, load, repeat, entry, facts, error)
        records.append(record)
        mark = ("ok" if record["correct"] else "ERROR" if record["error"] else
                "FLAT RUN FLAGGED" if plan.truth == "flat" else "DRIFT MISSED")
        progress.say(f"    flagged {record['flagged']} ({mark}); raw {pct(record['raw_change'])} "
                  f"(tau {num(record['raw_tau'])}), corrected {pct(record['corrected_change'])} "
                  f"(tau {num(record['corrected_tau'])}), machine {pct(record['machine_change'])}; "
                  f"p50 {num(record['latency_p50_ms'], 3)} ms, {record['iterations_completed']} iterations, "
                  f"load avg {record.get('load_average_1m_before')} -> {record.get('load_average_1m_after')}"
                  f"{'; ERROR ' + record['error'] if record['error'] else ''}")
        progress.finished_one()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", help="comma-separated workloads, or the groups flat / true (default: all)")
    parser.add_argument("--loads", help="comma-separated loads to keep (quiet, constant, start_midway, "
                        "stop_midway, ramp): filters both lists below")
    parser.add_argument("--flat-loads", default=",".join(FLAT_LOADS), help="loads for flat workloads")
    parser.add_argument("--true-loads", default=",".join(TRUE_LOADS), help="loads for true drifts")
    parser.add_argument("--repeats", type=int, help=f"runs per case and load (default {DEFAULT_REPEATS}, 1 with "
                        "--quick; flat quiet controls get half, at least 1)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: 1 run per case and load, ~{QUICK_TARGET_LOOP_S:g} s loops")
    parser.add_argument("--target-s", type=float, help=f"loop time per run (default "
                        f"{DEFAULT_TARGET_LOOP_S:g} s, {QUICK_TARGET_LOOP_S:g} s with --quick)")
    parser.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes in a loaded run")
    parser.add_argument("--json", type=Path, help="write every run's record and the totals here")
    parser.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a deleted temp dir)")
    args = parser.parse_args()
    args.repeats = args.repeats or (1 if args.quick else DEFAULT_REPEATS)
    args.target_s = args.target_s or (QUICK_TARGET_LOOP_S if args.quick else DEFAULT_TARGET_LOOP_S)

    kinds = select_kinds(args.cases, parser)
    flat_loads = parse_loads(args.flat_loads, args.loads, parser)
    true_loads = parse_loads(args.true_loads, args.loads, parser)
    schedule = run_schedule(kinds, flat_loads, true_loads, args.repeats)
    if not schedule:
        parser.error("nothing to run: no case has a load left")
    records: list[dict[str, Any]] = []
    plans: dict[str, Plan] = {}
    with runs_folder(args.keep_runs, "drift") as runs_dir, interruptible("runs") as interrupted:
        Progress.say(f"{len(schedule)} run(s) over {len(kinds)} workload(s); run folders in {runs_dir}")
        plans = make_plans(sorted({kind for kind, _, _ in schedule}, key=kinds.index), case_truths(), args.target_s)
        for plan in plans.values():
            if plan.kind == "planted_slowdown":
                Progress.say(f"planted_slowdown: {plan.kwargs['spins']} spins per ~1 ms step (calibrated here), "
                             f"{plan.iterations} iterations planned")
        run_all(plans, schedule, args.hogs, runs_dir, records)

    totals = print_report(kinds, flat_loads, true_loads, records, args, plans, interrupted[0])
    write_json(args.json, {
        "quick": args.quick, "repeats": args.repeats, "target_loop_s": args.target_s, "hogs": args.hogs,
        "cpu_count": os.cpu_count(), "warmup_steps": WARMUP_STEPS, "interrupted": interrupted[0],
        "plans": {kind: dataclasses.asdict(plan) for kind, plan in plans.items()},
        "totals": totals, "runs": records})
    met = totals["flat_flagged"] == 0 and totals["true_flagged"] == totals["true_runs"] and not totals["errors"]
    return 130 if interrupted[0] else (0 if met else 1)


if __name__ == "__main__":
    sys.exit(main())
