"""The cases of benchmarks/verdict_stability.py: workloads with a known truth (built-in strategies, the fast
workloads of workloads/stability_steps.py, the TF patterns of examples/tf_patterns/), read without importing
them (the patterns import TensorFlow), and choosing some by name or group."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

from _harness import PATTERNS, WORKLOADS, Strategy, builtin, module_constants, workload

STABILITY_STEPS = WORKLOADS / "stability_steps.py"
PATTERNS_DIR = PATTERNS
# Files in PATTERNS_DIR that are tools, not patterns (they have no make() anyway; this skips parsing them).
NOT_PATTERNS = {"measure_truth"}
TRUTHS = ("leak", "plateau", "flat")
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
    factory: str  # "file.py:func", or the built-in strategy's name (on the `tiny` preset)
    truth_bytes_per_iter: float | None = None

    def strategy(self) -> Strategy:
        return builtin(self.name) if self.group == "builtin" else workload(self.name, self.factory)


def _builtin_case(strategy: str, truth: str, iterations: int, quick_iterations: int) -> Case:
    return Case(strategy, "builtin", truth, iterations, quick_iterations, strategy)


def _fast_cases() -> list[Case]:
    truths = module_constants(STABILITY_STEPS)
    truth, truth_bytes = truths["TRUTH"], truths.get("TRUTH_BYTES_PER_ITER", {})
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
            constants = module_constants(path)
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
