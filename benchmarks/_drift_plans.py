"""The plans of benchmarks/latency_drift.py: its workloads and loads, how long each run is and in what order the
runs go (repeat-major), and choosing cases and loads from the command line."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
from typing import Any

from _harness import WORKLOADS, builtin_target, workload_function

from leakhunt.analysis.drift import DRIFT_MIN_FRACTION, DRIFT_MIN_TAU

DRIFT_STEPS = WORKLOADS / "drift_steps.py"
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
# "raw-only slowdown": the raw latency's last fifth this much above its first, its windows this monotone (the
# drift test's bars for a slowing series, leakhunt/analysis/drift.py).
RAW_SLOWDOWN_FRACTION = DRIFT_MIN_FRACTION
RAW_TREND_TAU = DRIFT_MIN_TAU
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


def case_truths() -> dict[str, str]:
    """drift_steps.TRUTH (read by parsing: this parent never imports TensorFlow) plus the built-in case."""
    tree = ast.parse(DRIFT_STEPS.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TRUTH" for t in node.targets):
            return {**ast.literal_eval(node.value), BUILTIN_FLAT[0]: "flat"}
    raise RuntimeError(f"{DRIFT_STEPS} has no TRUTH")


def make_plans(kinds: list[str], truths: dict[str, str], target_loop_s: float) -> dict[str, Plan]:
    # drift_steps imports TensorFlow only inside its TF factories: this parent stays TensorFlow-free.
    calibrate_spins = workload_function(DRIFT_STEPS, "calibrate_spins")
    spins_per_ms = calibrate_spins(PLANTED_STEP_S)  # once, here: quiet and loaded children do the same work
    plans = {}
    for kind in kinds:
        factory, kwargs = f"{DRIFT_STEPS}:{kind}", dict[str, Any]()
        iterations, time_cut = UNBOUNDED_ITERATIONS, True
        duration_s = target_loop_s + WARMUP_ALLOWANCE_S.get(kind, DEFAULT_WARMUP_ALLOWANCE_S)
        if kind == BUILTIN_FLAT[0]:
            factory, kwargs = builtin_target(BUILTIN_FLAT[1], BUILTIN_FLAT[2])
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


def run_schedule(kinds: list[str], flat_loads: list[str], true_loads: list[str],
                 repeats: int) -> list[tuple[str, str, int]]:
    """(kind, load, repeat) in the order to run: repeat-major, so slow changes of the shared machine spread
    over every case instead of hitting one. Flat quiet runs are controls: half as many (at least one)."""
    truths = case_truths()
    schedule = []
    for repeat in range(repeats):
        for kind in kinds:
            loads = flat_loads if truths[kind] == "flat" else true_loads
            for load in loads:
                wanted = max(1, math.ceil(repeats / 2)) if (load == "quiet" and truths[kind] == "flat") else repeats
                if repeat < wanted:
                    schedule.append((kind, load, repeat))
    return schedule


def select_kinds(cases: str | None, parser: argparse.ArgumentParser) -> list[str]:
    kinds = list(FLAT_KINDS + TRUE_KINDS)
    if not cases:
        return kinds
    truths = case_truths()
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
