"""What two of leakhunt's inner loops cost, side by side with the loop without them: the machine-speed reference
the child times between steps (target: under 1% of a loop of 1 ms steps; its budget is 0.5%), and the robust
slope fit every look and every verdict makes (Theil-Sen on 600 points: target under 50 ms).

These were timed unit tests; on a shared, noisy machine a timing belongs in a benchmark that prints its ratio.

    python benchmarks/analysis_cost.py [--seconds 3] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from _harness import text_table

from leakhunt.analysis.robust import theil_sen
from leakhunt.sampling.machine_speed import REFERENCE_TIME_BUDGET, MachineSpeedReference

STEP_S = 0.001


def _spin(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def loop_steps(seconds: float, reference: MachineSpeedReference | None) -> tuple[int, float]:
    """(steps done, seconds spent in the reference) in `seconds` of 1 ms busy steps."""
    steps, reference_s = 0, 0.0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        _spin(STEP_S)
        steps += 1
        if reference is not None and reference.due(time.monotonic()):
            before = time.perf_counter()
            reference.measure()
            reference_s += time.perf_counter() - before
    return steps, reference_s


def reference_rows(seconds: float, repeats: int) -> list[list[str]]:
    rows = []
    reference = MachineSpeedReference()
    try:
        for repeat in range(repeats):
            plain, _ = loop_steps(seconds, None)
            with_reference, reference_s = loop_steps(seconds, reference)
            rows.append([f"reference, repeat {repeat + 1}", f"{plain}", f"{with_reference}",
                         f"{plain / with_reference:.3f}x", f"{reference_s / seconds:.2%}"])
    finally:
        reference.close()
    return rows


def fit_rows(repeats: int) -> list[list[str]]:
    rng = np.random.default_rng(0)
    rows = []
    for points in (600, 6000):
        x = np.arange(points, dtype=float)
        y = 100.0 * x + np.cumsum(rng.normal(0, 1000, points))
        theil_sen(x, y)  # first call: imports and caches
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            theil_sen(x, y)
            timings.append(time.perf_counter() - started)
        rows.append([f"Theil-Sen, {points} points", "-", "-", "-",
                     f"{statistics.median(timings) * 1e3:.1f} ms (min {min(timings) * 1e3:.1f})"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each 1 ms step loop")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = reference_rows(args.seconds, args.repeats) + fit_rows(args.repeats)
    columns = [("what", "<26"), ("steps without", ">13"), ("steps with", ">10"), ("ratio", ">7"),
               ("share of the loop / time", "<26")]
    print("\n".join(text_table(columns, rows)))
    print(f"\nreference budget {REFERENCE_TIME_BUDGET:.1%} of the loop; targets: the reference under 1% of a 1 ms "
          "step loop (ratio under 1.01x), a 600-point fit under 50 ms")


if __name__ == "__main__":
    main()
