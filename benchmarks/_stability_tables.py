"""The tables of benchmarks/verdict_stability.py: agreement with the truth per case and mode, the two modes
side by side, the runs that disagreed."""

from __future__ import annotations

import collections
import statistics
from typing import Any

from _stability_cases import Case

MODES = ("default", "exact")


def rate(value: float | None) -> str:
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


def case_table(rows: list[dict]) -> list[str]:
    lines = [("| case | mode | truth | iterations | verdicts seen | agreement | quiet | with CPU hogs "
              "| median deciding slope | truth slope | deciding series | drift flagged |"),
             "|---|---|---|---:|---|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        agreement = row["agreement_text"] if row["agreement"] == 1 else f"**{row['agreement_text']}**"
        lines.append(
            f"| `{row['case']}` | {row['mode']} | {row['truth']} | {row['iterations']} | {_counts(row['verdicts'])} "
            f"| {agreement} "
            f"| {row['quiet_agreement_text']} | {row['hog_agreement_text']} "
            f"| {rate(row['median_deciding_slope_bytes_per_iter'])} | {rate(row['truth_bytes_per_iter'])} "
            f"| {_counts(row['deciding_series'])} | {_counts(row['drift_flags'])} |")
    return lines


def print_disagreements(records: list[dict]) -> None:
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
              f"{rate(record['deciding_slope_bytes_per_iter'])}): {record['verdict_reason']}"
              f"{_error_suffix(record)}")
