"""The tables of benchmarks/latency_drift.py: per case and load, the totals, the runs that missed."""

from __future__ import annotations

import os
import statistics
from typing import Any

from _drift_plans import LONG_STEP_KINDS, RAW_TREND_TAU, Plan, case_truths
from _harness import markdown_table


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1%}"


def num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _median(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def case_table(kind: str, truth: str, records: list[dict[str, Any]], loads: list[str]) -> list[str]:
    target = "target: none flagged" if truth == "flat" else "target: every run flagged"
    rows = []
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
        rows.append([load, f"{len(mine)}{failed}", f"**{flagged_text}**" if wrong else flagged_text,
                     sum(record["raw_slowdown"] for record in mine), pct(_median([r["raw_change"] for r in mine])),
                     pct(_median([r["corrected_change"] for r in mine])),
                     pct(_median([r["machine_change"] for r in mine])),
                     f"{num(_median([r['latency_p50_ms'] for r in mine]), 3)} ms",
                     f"{num(first, 3)} -> {num(last, 3)} ms"])
    header = ["load", "runs", "flagged", "raw change >= 10%", "median raw change", "median corrected change",
              "median machine change", "median p50 latency", "first -> last window median"]
    return [f"### `{kind}` ({truth}; {target})", "", *markdown_table(header, "lrrrrrrrr", rows)]


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
    truths = case_truths()
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
                  f"{pct(record['raw_change'])} (tau {num(record['raw_tau'])}), corrected "
                  f"{pct(record['corrected_change'])} (tau {num(record['corrected_tau'])}), machine "
                  f"{pct(record['machine_change'])}, {record['iterations_completed']} iterations, load avg "
                  f"{record.get('load_average_1m_before')} -> {record.get('load_average_1m_after')}"
                  f"{'; ' + record['error'] if record['error'] else ''}")
    print()
    print(f"flat runs whose raw latency slowed >= 10% and the reference correction cleared: "
          f"{totals['flat_raw_slowdowns_removed']} of {totals['flat_runs']} (the raw test alone, change >= 10% "
          f"and tau >= {RAW_TREND_TAU:g}, would have flagged {totals['flat_raw_test_alone_would_flag']})")
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
