"""Replay `--until-decided` on a finished strategy folder: at which look would it have stopped, and why not
earlier?

Reads a strategy's iterations.csv (best from an `--exact` run, so every later look can be replayed too)
and takes the looks the parent would have taken (the iteration schedule of SettleTracker; the parent's
time throttle is ignored), printing per look the verdict, the settled verdict it supports and the reason,
and per series the 99.9% upper slope and how far its projection to the maximum is from the floor.

    python benchmarks/settle_replay.py RUN/strategies/03-saved-model --max-iterations 5000
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import read_json

from leakhunt import rundir
from leakhunt.analysis.leak import estimate_growth, iteration_series
from leakhunt.analysis.settle import INTERIM_CONFIDENCE, SETTLE_SERIES
from leakhunt.analysis.settle_replay import replay_looks, replayed_settle


def _series_lines(frame, warmup_steps: int, max_iterations: int) -> list[str]:
    lines = []
    for series, (column, kind) in SETTLE_SERIES.items():
        x, y = iteration_series(frame, column, warmup_steps)
        estimate = estimate_growth(series, x, y, kind=kind, confidence=INTERIM_CONFIDENCE)
        if estimate is None or estimate.fit is None:
            continue
        span = max_iterations - estimate.first_iteration
        projected = max(estimate.fit.ci_high, 0.0) * span
        recent = estimate.recent_fit
        recent_slope = "-" if recent is None else f"{recent.slope:.3g}"
        lines.append(f"      {series:10s} slope {estimate.fit.slope:+.3g} [{estimate.fit.ci_low:+.3g}, "
                     f"{estimate.fit.ci_high:+.3g}]/iter  upper x span = {projected / estimate.growth_floor:.2f} "
                     f"floors; growth {estimate.growth_bytes:+.3g} rise {estimate.rise_bytes:.3g} recent "
                     f"{recent_slope}/iter (floor {estimate.growth_floor:.3g})")
    return lines


def _readings(strategy_dir: Path) -> tuple[Any, Any, int]:
    """(iterations, collections, warm-up steps) of a finished strategy folder."""
    warmup_steps = int(read_json(strategy_dir / "task.json").get("warmup_steps", 0))
    frame = rundir.read_csv_tolerant(strategy_dir / rundir.ITERATIONS_FILE, rundir.ITERATION_COLUMNS)
    collections = rundir.read_csv_tolerant(strategy_dir / rundir.COLLECTIONS_FILE, rundir.COLLECTION_COLUMNS)
    return frame, collections, warmup_steps


def _looks(strategy_dir: Path, max_iterations: int) -> Iterator[tuple[int, Any, Any, str | None, int]]:
    """The looks the parent would have taken, in order: (measured iterations, the rows up to there, the look
    or None when too early, the stop reason or None, warm-up steps), until one stops or the rows run out."""
    frame, collections, warmup_steps = _readings(strategy_dir)
    for replayed in replay_looks(frame, collections, warmup_steps, max_iterations):
        yield replayed.measured_iterations, replayed.rows, replayed.look, replayed.stop, warmup_steps


def settled_verdict(strategy_dir: Path, max_iterations: int) -> tuple[str | None, int | None]:
    """(the verdict the looks would have settled on, at how many measured iterations), or (None, None): replays
    the looks silently, for benchmarks that compare it with the run's final verdict."""
    frame, collections, warmup_steps = _readings(strategy_dir)
    return replayed_settle(frame, collections, warmup_steps, max_iterations)


def replay(strategy_dir: Path, max_iterations: int, verbose: bool) -> str | None:
    measured = 0
    for measured, upto, look, stop, warmup_steps in _looks(strategy_dir, max_iterations):
        if look is None:
            print(f"  look at {measured}: too early")
        else:
            print(f"  look at {measured}: {look.verdict} ({look.pattern}, {look.deciding_series}) "
                  f"settles={look.settles}: {look.why}")
            if verbose:
                print("\n".join(_series_lines(upto, warmup_steps, max_iterations)))
        if stop:
            print(f"  STOP: {stop}")
            return stop
    available = int(rundir.read_csv_tolerant(strategy_dir / rundir.ITERATIONS_FILE,
                                             rundir.ITERATION_COLUMNS)["step"].max()) + 1
    warmup_steps = int(read_json(strategy_dir / "task.json").get("warmup_steps", 0))
    print(f"  never settled within {min(available - warmup_steps, max_iterations)} iterations")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("strategy_dirs", nargs="+", type=Path)
    parser.add_argument("--max-iterations", type=int, default=5000)
    parser.add_argument("--verbose", "-v", action="store_true", help="per-series slopes at every look")
    args = parser.parse_args()
    for strategy_dir in args.strategy_dirs:
        print(strategy_dir)
        replay(strategy_dir, args.max_iterations, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
