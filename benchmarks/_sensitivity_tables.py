"""The tables of benchmarks/sensitivity.py: detection per planted leak and length, the flat runs, the targets."""

from __future__ import annotations

import argparse
import collections
import statistics

import pandas as pd
from _harness import markdown_table

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


def _size(value: int) -> str:
    return f"{value // 1024} KiB" if value >= 1024 else f"{value} B"


def _pct(value) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:+.1%}"


def print_leak_table(frame: pd.DataFrame, lengths: list[int]) -> None:
    longest = max(lengths)
    header = ["planted", "kind", *(f"{length} it" for length in lengths),
              f"median slope error at {longest} (range)", f"slope series at {longest}"]
    rows = []
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
        rows.append([_size(size), "Python" if kind == "python" else kind, *cells, error, series])
    print("\n".join(markdown_table(header, "rl" + "r" * len(lengths) + "rl", rows)))


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


def print_leaks(args: argparse.Namespace, frame: pd.DataFrame, longest: int) -> None:
    how = "one soak per length" if args.separate_lengths else f"the first N iterations of a {longest}-iteration run"
    print()
    print(f"planted leaks ({args.planting} planting, pace {args.pace_ms:g} ms, {args.repeats} run(s) per cell, "
          f"{how}): detection rate (verdict == leak) and slope error (measured / planted - 1)")
    print()
    print_leak_table(frame, args.lengths)
    if args.until_decided:
        print()
        print("--until-decided: iterations each planted leak ran before it stopped (median over runs)")
        rows = [[_size(size), kind, length, f"{statistics.median(group.iterations_used):.0f}",
                 f"{group.stopped_early.mean():.0%}"]
                for (size, kind, length), group in frame.groupby(["bytes_per_iter", "kind", "iterations"])]
        print("\n".join(markdown_table(["planted", "kind", "max iterations", "median iterations run",
                                         "stopped early"], "rlrrr", rows)))
    missed = frame[(frame.iterations == longest) & (frame.verdict != "leak")]
    if not missed.empty:
        print()
        print(f"not called a leak at {longest} iterations:")
        for row in missed.itertuples():
            print(f"- {row.kind} {_size(row.bytes_per_iter)}: {row.verdict} ({row.pattern}, deciding "
                  f"{row.deciding_series}): {row.verdict_reason}")


def print_flats(args: argparse.Namespace, flat_records: list[dict]) -> int:
    """The flat runs' table; returns how many were called a leak."""
    flats = pd.DataFrame(flat_records)
    false_leaks = int((flats.verdict == "leak").sum())
    print()
    print(f"flat runs: {len(flats)} ({args.flat_iterations} iterations each, pace {args.pace_ms:g} ms); "
          f"called a leak: **{false_leaks}** (false-leak rate {false_leaks / len(flats):.0%})")
    print()
    rows = []
    for kind in FLAT_KINDS:
        group = flats[flats.kind == kind]
        if group.empty:
            continue
        verdicts = ", ".join(f"{name} {count}" for name, count in collections.Counter(group.verdict).most_common())
        slopes = [value for value in group.slope if value is not None and not pd.isna(value)]
        latencies = [value for value in group.latency_p50_ms if value is not None and not pd.isna(value)]
        slope = f"{statistics.median(slopes):+.1f} B/iter" if slopes else "-"
        latency = f"{statistics.median(latencies):.3f} ms" if latencies else "-"
        rows.append([f"`{kind}`", len(group), verdicts, slope, latency])
    print("\n".join(markdown_table(["flat kind", "runs", "verdicts", "median slope", "median p50 step"], "lrlrr",
                                    rows)))
    odd = flats[flats.verdict != "flat"]
    if not odd.empty:
        print()
        print("flat runs not called flat:")
        for row in odd.itertuples():
            print(f"- {row.name}: {row.verdict} ({row.pattern}, deciding {row.deciding_series}): "
                  f"{row.verdict_reason}")
    return false_leaks


def print_targets(args: argparse.Namespace, frame: pd.DataFrame, flat_records: list[dict], false_leaks: int,
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
