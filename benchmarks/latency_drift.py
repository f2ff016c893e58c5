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
import ast
import dataclasses
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leakhunt.rundir.progress_file import ProgressFile

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # hog.py

DRIFT_STEPS = HERE / "workloads" / "drift_steps.py"
# The built-in strategy soaked as a flat case: (case name, strategy, preset).
BUILTIN_FLAT = ("maskrcnn_tiny_persistent", "persistent", "tiny")
FLAT_KINDS = ("numpy_flat", "keras_call_flat", "tf_constant_flat", "tf1_finalized_flat", "python_flat_long",
              BUILTIN_FLAT[0])
TRUE_KINDS = ("tf1_graph_growth", "retracing_function", "planted_slowdown")
# Not in the default set: a known, separate failure mode (BLAS threads), run only when named in --cases.
OPT_IN_KINDS = ("numpy_blas_flat",)
# Sub-millisecond steps mostly finish inside one scheduler slice; these do not (reported as a group).
LONG_STEP_KINDS = ("python_flat_long", BUILTIN_FLAT[0])
# Loads per truth. Flat runs are about a machine that CHANGES during the run; the quiet runs are controls.
# True drifts must be flagged on a quiet machine, on a steadily loaded one, and when the load starts midway
# (the raw slowdown is then the drift plus the machine's; the corrected one must still show the drift).
FLAT_LOADS = ("quiet", "start_midway", "stop_midway", "ramp")
TRUE_LOADS = ("quiet", "constant", "start_midway")
HOG_MODES = ("constant", "start_midway", "stop_midway", "ramp")
# The CLI's default warm-up: the benchmark judges what a user running `leakhunt soak` would see.
WARMUP_STEPS = 10
DEFAULT_REPEATS = 2
DEFAULT_TARGET_LOOP_S = 20.0
QUICK_TARGET_LOOP_S = 6.0
# A time-cut run stops here at the latest in iterations (never reached in practice: a 20 s loop of the
# fastest step, ~0.1 ms, is ~200k iterations).
UNBOUNDED_ITERATIONS = 10_000_000
PLANTED_SLOWDOWN_FRACTION = 0.2
PLANTED_STEP_S = 0.001
# Per-step cost of the child's own loop besides the step (clock reads, CSV line, readings on a budget).
LOOP_OVERHEAD_S = 0.00003
# planted_slowdown's time cap: hogs slow a 1 ms Python step's loop ~3x on 2 cores (the child waits between
# steps); past this multiple of the planned loop the run is cut so one stuck case cannot eat the benchmark.
PLANTED_DURATION_CAP_FACTOR = 6.0
# The drift test needs 50 measured iterations; below this a run's windows are too thin to mean much.
MIN_ITERATIONS = 150
DRIFT_MIN_ITERATIONS = 50  # leakhunt/analysis/drift.py: fewer say nothing about drift (a failed run here)
# RunConfig.duration_s counts the warm-up too; a time-cut run gets this much on top of --target-s for it.
# The Mask R-CNN's first call runs Grappler over a ~6k-node graph (5-10 s, more under a constant hog).
WARMUP_ALLOWANCE_S = {BUILTIN_FLAT[0]: 20.0}
DEFAULT_WARMUP_ALLOWANCE_S = 3.0
LONG_STEP_MS = 30.0
# "raw-only slowdown": the raw latency's last fifth this much above its first (the drift test's own bar).
RAW_SLOWDOWN_FRACTION = 0.10
RAW_TREND_TAU = 0.5
# How often the hog watcher polls the child's progress file.
WATCH_POLL_S = 0.02


@dataclasses.dataclass(frozen=True)
class Plan:
    kind: str
    truth: str  # flat | drift
    factory: str
    kwargs: dict[str, Any]
    iterations: int  # the maximum; time-cut runs end at duration_s first
    duration_s: float  # RunConfig.duration_s: the loop's time limit, warm-up included
    time_cut: bool  # True: the loop ends at duration_s, and a changing hog schedule spans what is left of it
    hog_duration_s: float  # the changing hogs' schedule length when not time_cut (planted_slowdown)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _truths() -> dict[str, str]:
    """drift_steps.TRUTH (read by parsing: this parent never imports TensorFlow) plus the built-in case."""
    tree = ast.parse(DRIFT_STEPS.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TRUTH" for t in node.targets):
            return {**ast.literal_eval(node.value), BUILTIN_FLAT[0]: "flat"}
    raise RuntimeError(f"{DRIFT_STEPS} has no TRUTH")


def _load_average_1m() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def make_plans(kinds: list[str], truths: dict[str, str], target_loop_s: float) -> dict[str, Plan]:
    # drift_steps imports TensorFlow only inside its TF factories: this parent stays TensorFlow-free.
    sys.path.insert(0, str(DRIFT_STEPS.parent))
    from drift_steps import calibrate_spins

    spins_per_ms = calibrate_spins(PLANTED_STEP_S)  # once, here: quiet and loaded children do the same work
    plans = {}
    for kind in kinds:
        factory, kwargs = f"{DRIFT_STEPS}:{kind}", {}
        iterations, time_cut = UNBOUNDED_ITERATIONS, True
        duration_s = target_loop_s + WARMUP_ALLOWANCE_S.get(kind, DEFAULT_WARMUP_ALLOWANCE_S)
        if kind == BUILTIN_FLAT[0]:
            from leakhunt.runner.soak_setup import builtin_specs

            (spec,) = builtin_specs([BUILTIN_FLAT[1]], BUILTIN_FLAT[2], None, [], [], [], None, None, 0,
                                    use_default_set=False)
            factory, kwargs = spec.factory, dict(spec.factory_kwargs)
        elif kind == "python_flat_long":
            kwargs = {"step_ms": LONG_STEP_MS, "spins_per_ms": spins_per_ms}
        elif kind == "planted_slowdown":
            mean_step_s = PLANTED_STEP_S * (1 + PLANTED_SLOWDOWN_FRACTION / 2) + LOOP_OVERHEAD_S
            iterations = max(MIN_ITERATIONS, round(target_loop_s / mean_step_s))
            kwargs = {"iterations": iterations, "slowdown_fraction": PLANTED_SLOWDOWN_FRACTION,
                      "spins": spins_per_ms, "warmup_steps": WARMUP_STEPS}
            duration_s, time_cut = target_loop_s * PLANTED_DURATION_CAP_FACTOR, False
        plans[kind] = Plan(kind, truths[kind], factory, kwargs, iterations, duration_s, time_cut, target_loop_s)
    return plans


# ------------------------------------------------------------------------------------------- one soak
class HogWatcher(threading.Thread):
    """Starts `cpu_hogs(count, mode, schedule_s)` at the child's first measured step (at once for
    `constant`) and stops them when the child's loop has ended (all steps, or its time limit) or `done`.

    schedule_s: for a time-cut run, what is left of the loop's time limit at the first measured step (the
    limit counts from the first warm-up step, which this watcher sees in the progress file); otherwise the
    plan's expected loop time."""

    def __init__(self, out_dir: Path, count: int, mode: str, plan: Plan):
        super().__init__(name=f"hog-watcher-{mode}", daemon=True)
        self.out_dir, self.count, self.mode, self.plan = out_dir, count, mode, plan
        self.done = threading.Event()
        self.started_hogs = threading.Event()
        self.info: dict[str, Any] = {}
        self._progress: ProgressFile | None = None
        # Start of the earliest step seen: the loop's start, to a poll period (or a few fast warm-up steps).
        self.loop_start_s: float | None = None

    def _read_progress(self) -> tuple[int, float] | None:
        from leakhunt.rundir.progress_file import PROGRESS_FILE, ProgressFile

        if self._progress is None:
            for path in sorted((self.out_dir / "strategies").glob(f"*/{PROGRESS_FILE}")):
                if path.stat().st_size >= 16:
                    self._progress = ProgressFile(path)
        if self._progress is None:
            return None
        steps_done, step_start_s = self._progress.read()
        if steps_done >= 0 and self.loop_start_s is None:
            self.loop_start_s = step_start_s
        return steps_done, step_start_s

    def _wait(self, predicate) -> tuple[int, float] | None:
        """Poll the child's progress until predicate(steps_done) holds; None if the soak ended first."""
        while not self.done.is_set():
            found = self._read_progress()
            if found is not None and predicate(found[0]):
                return found
            time.sleep(WATCH_POLL_S)
        return None

    def run(self) -> None:
        from hog import cpu_hogs

        total_steps = WARMUP_STEPS + self.plan.iterations
        try:
            measure_start_s = None
            if self.mode != "constant":
                # A changing load is aligned with the measured iterations: its clock starts at the first one.
                found = self._wait(lambda steps: steps >= WARMUP_STEPS)
                if found is None:
                    return
                measure_start_s = found[1]
            schedule_s = self.plan.hog_duration_s
            if self.plan.time_cut and measure_start_s is not None:
                loop_start_s = self.loop_start_s if self.loop_start_s is not None else measure_start_s
                schedule_s = max(1.0, loop_start_s + self.plan.duration_s - measure_start_s)
                self.info["warmup_s"] = round(measure_start_s - loop_start_s, 2)
            self.info["hog_schedule_s"] = round(schedule_s, 2)
            with cpu_hogs(self.count, self.mode, schedule_s) as hogs:
                self.info["hogs_started_monotonic"] = hogs.started_monotonic
                self.started_hogs.set()  # soak_one starts a constant-load soak only after this
                if measure_start_s is not None:
                    # Spawning the hogs takes ~0.1-0.5 s; this is how far into the loop the schedule began.
                    self.info["hog_schedule_delay_s"] = round(hogs.started_monotonic - measure_start_s, 3)
                else:
                    found = self._wait(lambda steps: steps >= WARMUP_STEPS)
                    measure_start_s = time.monotonic() if found is None else found[1]
                # Hold the load until the child's loop ends: all steps done, or its time limit (counted from
                # the loop's start, warm-up included, so from the first measured step it is at most that).
                # The report building after it need not run under load.
                loop_start_s = self.loop_start_s if self.loop_start_s is not None else measure_start_s
                loop_end_s = loop_start_s + self.plan.duration_s + 0.5
                self._wait(lambda steps: steps >= total_steps or time.monotonic() >= loop_end_s)
        except Exception as error:  # noqa: BLE001 - recorded on the run; the soak itself goes on
            self.info["hog_error"] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            if self._progress is not None:
                self._progress.close()


def soak_one(plan: Plan, load: str, out_dir: Path, hog_count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """One soak of one workload under one load; returns (summary entry, run facts)."""
    from leakhunt import runner
    from leakhunt.rundir.config import RunConfig, StrategySpec

    spec = StrategySpec(plan.kind, plan.factory, dict(plan.kwargs),
                        description=f"latency drift benchmark: {plan.kind} ({plan.truth})")
    config = RunConfig(attribute="off", strategies=(spec,), out_dir=out_dir, iterations=plan.iterations,
                       duration_s=plan.duration_s, warmup_steps=WARMUP_STEPS, show_progress=False,
                       until_decided=False)
    watcher = None
    if load != "quiet":
        watcher = HogWatcher(out_dir, hog_count, load, plan)
        watcher.start()
        if load == "constant":
            # A constant load is on before the child starts: the whole child, build and warm-up included,
            # runs on a loaded machine.
            while not watcher.started_hogs.wait(0.1):
                if not watcher.is_alive():
                    raise RuntimeError(f"constant hogs did not start: {watcher.info.get('hog_error')}")
    facts: dict[str, Any] = {"load_average_1m_before": _load_average_1m()}
    started_s = time.monotonic()
    try:
        result = runner.run(config)
    finally:
        if watcher is not None:
            watcher.done.set()
            watcher.join()
            facts.update(watcher.info)
    facts["soak_wall_s"] = round(time.monotonic() - started_s, 1)
    facts["load_average_1m_after"] = _load_average_1m()
    if result.interrupted:
        raise KeyboardInterrupt
    (entry,) = result.summary["strategies"]
    return dict(entry), facts


# ------------------------------------------------------------------------------------------ the runs
def run_schedule(kinds: list[str], flat_loads: list[str], true_loads: list[str],
                 repeats: int) -> list[tuple[str, str, int]]:
    """(kind, load, repeat) in the order to run: repeat-major, so slow changes of the shared machine spread
    over every case instead of hitting one. Flat quiet runs are controls: half as many (at least one)."""
    truths = _truths()
    schedule = []
    for repeat in range(repeats):
        for kind in kinds:
            loads = flat_loads if truths[kind] == "flat" else true_loads
            for load in loads:
                wanted = max(1, math.ceil(repeats / 2)) if (load == "quiet" and truths[kind] == "flat") else repeats
                if repeat < wanted:
                    schedule.append((kind, load, repeat))
    return schedule


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
    started = time.monotonic()
    for index, (kind, load, repeat) in enumerate(schedule, 1):
        plan = plans[kind]
        _progress(f"run {index}/{len(schedule)}: {kind} ({plan.truth}), {load}"
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
        _progress(f"    flagged {record['flagged']} ({mark}); raw {_pct(record['raw_change'])} "
                  f"(tau {_num(record['raw_tau'])}), corrected {_pct(record['corrected_change'])} "
                  f"(tau {_num(record['corrected_tau'])}), machine {_pct(record['machine_change'])}; "
                  f"p50 {_num(record['latency_p50_ms'], 3)} ms, {record['iterations_completed']} iterations, "
                  f"load avg {record.get('load_average_1m_before')} -> {record.get('load_average_1m_after')}"
                  f"{'; ERROR ' + record['error'] if record['error'] else ''}")
        elapsed = time.monotonic() - started
        _progress(f"    {elapsed / 60:.1f} min so far, ~{elapsed / index * (len(schedule) - index) / 60:.0f} min left")


# ----------------------------------------------------------------------------------------- reporting
def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def case_table(kind: str, truth: str, records: list[dict[str, Any]], loads: list[str]) -> list[str]:
    target = "target: none flagged" if truth == "flat" else "target: every run flagged"
    lines = [f"### `{kind}` ({truth}; {target})", "",
             ("| load | runs | flagged | raw change >= 10% | median raw change | median corrected change "
              "| median machine change | median p50 latency | first -> last window median |"),
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for load in loads:
        every = [record for record in records if record["kind"] == kind and record["load"] == load]
        mine = [record for record in every if not record["error"]]  # failed runs are listed, not counted
        if not every:
            continue
        failed = f" (+{len(every) - len(mine)} failed)" if len(every) > len(mine) else ""
        flagged = sum(record["flagged"] for record in mine)
        wrong = flagged if truth == "flat" else len(mine) - flagged
        flagged_text = f"{flagged} of {len(mine)}"
        first, last = _median([r["first_window_ms"] for r in mine]), _median([r["last_window_ms"] for r in mine])
        lines.append(
            f"| {load} | {len(mine)}{failed} | {f'**{flagged_text}**' if wrong else flagged_text} "
            f"| {sum(record['raw_slowdown'] for record in mine)} "
            f"| {_pct(_median([r['raw_change'] for r in mine]))} "
            f"| {_pct(_median([r['corrected_change'] for r in mine]))} "
            f"| {_pct(_median([r['machine_change'] for r in mine]))} "
            f"| {_num(_median([r['latency_p50_ms'] for r in mine]), 3)} ms "
            f"| {_num(first, 3)} -> {_num(last, 3)} ms |")
    return lines


def overall(records: list[dict[str, Any]]) -> dict[str, Any]:
    flat = [record for record in records if record["truth"] == "flat" and not record["error"]]
    true = [record for record in records if record["truth"] == "drift" and not record["error"]]
    raw_only = [record for record in flat if record["raw_slowdown"] and not record["flagged"]]
    long_step = [record for record in flat if record["kind"] in LONG_STEP_KINDS]
    return {
        "flat_runs": len(flat), "flat_flagged": sum(record["flagged"] for record in flat),
        "flat_long_step_runs": len(long_step), "flat_long_step_flagged": sum(r["flagged"] for r in long_step),
        "flat_raw_slowdowns_removed": len(raw_only),
        "flat_raw_test_alone_would_flag": sum(record["raw_test_alone_flags"] for record in flat),
        "flat_raw_test_alone_removed": sum(record["raw_test_alone_flags"] and not record["flagged"] for record in flat),
        "true_runs": len(true), "true_flagged": sum(record["flagged"] for record in true),
        "errors": sum(bool(record["error"]) for record in records),
    }


def print_report(kinds: list[str], flat_loads: list[str], true_loads: list[str], records: list[dict[str, Any]],
                 args, plans: dict[str, Plan], interrupted: bool) -> dict[str, Any]:
    truths = _truths()
    print()
    if interrupted:
        print("INTERRUPTED: partial results")
    print(f"latency drift: {os.cpu_count()} CPU(s), {args.hogs} hog(s) in a loaded run, {args.target_s:g} s of "
          f"loop per run{', --quick' if args.quick else ''}; flagged = latency_drift_significant")
    for kind in kinds:
        if any(record["kind"] == kind for record in records):
            print()
            for line in case_table(kind, truths[kind], records, flat_loads if truths[kind] == "flat" else true_loads):
                print(line)
    totals = overall(records)
    wrong = [record for record in records if not record["correct"] or record["error"]]
    if wrong:
        print()
        print("runs that missed the target (or failed):")
        for record in wrong:
            what = "error" if record["error"] else ("flat run flagged" if record["truth"] == "flat" else "drift missed")
            print(f"- `{record['kind']}` {record['load']} repeat {record['repeat'] + 1}: {what}; raw "
                  f"{_pct(record['raw_change'])} (tau {_num(record['raw_tau'])}), corrected "
                  f"{_pct(record['corrected_change'])} (tau {_num(record['corrected_tau'])}), machine "
                  f"{_pct(record['machine_change'])}, {record['iterations_completed']} iterations, load avg "
                  f"{record.get('load_average_1m_before')} -> {record.get('load_average_1m_after')}"
                  f"{'; ' + record['error'] if record['error'] else ''}")
    print()
    print(f"flat runs whose raw latency slowed >= 10% and the reference correction cleared: "
          f"{totals['flat_raw_slowdowns_removed']} of {totals['flat_runs']} (the raw test alone, change >= 10% "
          f"and tau >= 0.5, would have flagged {totals['flat_raw_test_alone_would_flag']})")
    if totals["flat_long_step_runs"]:
        short_runs = totals["flat_runs"] - totals["flat_long_step_runs"]
        short_flagged = totals["flat_flagged"] - totals["flat_long_step_flagged"]
        print(f"flat runs flagged by step length: sub-millisecond steps {short_flagged} of {short_runs}; steps "
              f"longer than a scheduler slice ({', '.join(LONG_STEP_KINDS)}) "
              f"{totals['flat_long_step_flagged']} of {totals['flat_long_step_runs']}")
    partial = " (partial: interrupted)" if interrupted else ""
    errors = f"; {totals['errors']} run(s) failed, not counted" if totals["errors"] else ""
    print(f"flat runs flagged: {totals['flat_flagged']} of {totals['flat_runs']} (target 0); true drifts flagged: "
          f"{totals['true_flagged']} of {totals['true_runs']} (target all){errors}{partial}")
    return totals


def select_kinds(cases: str | None, parser: argparse.ArgumentParser) -> list[str]:
    kinds = list(FLAT_KINDS + TRUE_KINDS)
    if not cases:
        return kinds
    truths = _truths()
    chosen: list[str] = []
    for name in (part.strip() for part in cases.split(",") if part.strip()):
        group = {"flat": FLAT_KINDS, "true": TRUE_KINDS}.get(name)
        if group is None and name not in truths:
            parser.error(f"unknown case {name!r}; known: {', '.join(kinds + list(OPT_IN_KINDS))} "
                         "(groups: flat, true)")
        chosen += [kind for kind in (group or (name,)) if kind not in chosen]
    return chosen


def parse_loads(text: str, keep_only: str | None, parser: argparse.ArgumentParser) -> list[str]:
    loads = [part.strip() for part in text.split(",") if part.strip()]
    for load in loads:
        if load != "quiet" and load not in HOG_MODES:
            parser.error(f"unknown load {load!r}; choose from quiet, {', '.join(HOG_MODES)}")
    if keep_only:
        keep = {part.strip() for part in keep_only.split(",")}
        loads = [load for load in loads if load in keep]
    return loads


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
    if args.keep_runs:
        args.keep_runs.mkdir(parents=True, exist_ok=True)
        runs_dir = Path(tempfile.mkdtemp(prefix="drift-", dir=args.keep_runs))
    else:
        runs_dir = Path(tempfile.mkdtemp(prefix="leakhunt-drift-"))
    _progress(f"{len(schedule)} run(s) over {len(kinds)} workload(s); run folders in {runs_dir}")

    records: list[dict[str, Any]] = []
    plans: dict[str, Plan] = {}
    interrupted = False
    try:
        plans = make_plans(sorted({kind for kind, _, _ in schedule}, key=kinds.index), _truths(), args.target_s)
        for plan in plans.values():
            if plan.kind == "planted_slowdown":
                _progress(f"planted_slowdown: {plan.kwargs['spins']} spins per ~1 ms step (calibrated here), "
                          f"{plan.iterations} iterations planned")
        run_all(plans, schedule, args.hogs, runs_dir, records)
    except KeyboardInterrupt:
        interrupted = True  # report what was measured
        _progress("interrupted: the results below cover the runs that finished")
    finally:
        if not args.keep_runs:
            shutil.rmtree(runs_dir, ignore_errors=True)

    totals = print_report(kinds, flat_loads, true_loads, records, args, plans, interrupted)
    if args.json:
        args.json.write_text(json.dumps({
            "quick": args.quick, "repeats": args.repeats, "target_loop_s": args.target_s, "hogs": args.hogs,
            "cpu_count": os.cpu_count(), "warmup_steps": WARMUP_STEPS, "interrupted": interrupted,
            "plans": {kind: dataclasses.asdict(plan) for kind, plan in plans.items()},
            "totals": totals, "runs": records}, indent=1))
        print(f"raw results: {args.json}")
    met = totals["flat_flagged"] == 0 and totals["true_flagged"] == totals["true_runs"] and not totals["errors"]
    return 130 if interrupted else (0 if met else 1)


if __name__ == "__main__":
    sys.exit(main())
