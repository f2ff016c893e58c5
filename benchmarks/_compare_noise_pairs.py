"""Judging the pairs of benchmarks/compare_noise.py: `leakhunt compare` on two run folders of one case, what it said
about latency and memory against what each pair should show, and the table of every pair."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from _harness import markdown_table

# (A, B, kind, what B is, expected latency, expected memory); expected None: must not differ.
PAIRS = (
    ("base", "base2", "same", "quiet vs quiet", None, None),
    ("base", "cpu", "same", "quiet vs CPU hog", None, None),
    ("base", "mem", "same", "quiet vs memory hog", None, None),
    ("base", "slower", "planted", "+20% slower step", "slower", None),
    ("base", "leak", "planted", "leak added", None, "more"),
    ("leak", "base", "planted", "leak fixed", None, "less"),
    ("base", "fixed", "planted", "real fix (ops built once)", "any", "less"),
)


def _latency_outcome(row: dict[str, Any]) -> str:
    return str(row.get("latency_outcome") or "same")


def _memory_outcome(row: dict[str, Any]) -> str:
    return str(row.get("memory_outcome") or "same")


def judge_pair(folder_a: Path, folder_b: Path, pair: tuple, out_dir: Path) -> dict[str, Any]:
    from leakhunt.report.compare import compare_runs

    name_a, name_b, kind, what, want_latency, want_memory = pair
    # Read loosely, as a JSON reader would: older and newer rows alike.
    comparison: Any = compare_runs(folder_a, folder_b, out_dir=out_dir, formats=("md", "html", "json"))
    (row,) = comparison["strategies"]
    latency, memory = _latency_outcome(row), _memory_outcome(row)
    false_differs = []
    if latency in ("slower", "faster") and want_latency is None:
        false_differs.append(f"latency {latency}")
    if memory in ("more", "less") and want_memory is None:
        false_differs.append(f"memory {memory}")
    found = None
    if kind == "planted":
        found = ((want_latency is None or want_latency == "any" or latency == want_latency)
                 and (want_memory is None or memory == want_memory))
    views = row.get("latency_views") or []
    deciding = [view for view in views if view.get("decides")]
    conditions_a, conditions_b = row.get("conditions_a") or {}, row.get("conditions_b") or {}
    return {
        "pair": f"{name_a} -> {name_b}", "kind": kind, "what": what, "latency": latency, "memory": memory,
        "latency_net_change": row.get("latency_net_change"),
        "latency_raw_change": row.get("latency_p50_relative_change"),
        "latency_tolerance": deciding[0]["tolerance"] if deciding else None,
        "wait_share_a": conditions_a.get("runqueue_wait_share"),
        "wait_share_b": conditions_b.get("runqueue_wait_share"),
        "threads_wait_a": conditions_a.get("threads_wait_fraction"),
        "threads_wait_b": conditions_b.get("threads_wait_fraction"),
        "reference_ratio": _ratio(conditions_a.get("reference_ms"), conditions_b.get("reference_ms")),
        "rss_slope_a": row.get("rss_slope_a_bytes_per_iter"), "rss_slope_b": row.get("rss_slope_b_bytes_per_iter"),
        "span": (row.get("span") or {}).get("last_iteration"),
        "latency_words": row.get("latency_in_words"), "memory_words": row.get("memory_in_words"),
        "span_words": row.get("span_words"),
        "false_differs": false_differs, "found": found, "compare_md": str(out_dir / "compare.md"),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b else None


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _bytes(value: float | None) -> str:
    from leakhunt.units import human_rate

    return "-" if value is None else human_rate(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def _side(runs_dir: Path, group: int, per_side: int, case: str, soak_name: str) -> Path | None:
    """The folder `leakhunt compare` takes as one side: the run folder of one repeat, or (per_side > 1) a folder
    of links to the run folders of `per_side` consecutive repeats (None when any of them is missing)."""
    repeats = range(group * per_side, (group + 1) * per_side)
    folders = [runs_dir / f"r{repeat}" / case / soak_name for repeat in repeats]
    if not all((folder / "run.json").exists() for folder in folders):
        return None
    if per_side == 1:
        return folders[0]
    side = runs_dir / "sides" / f"g{group}" / case / soak_name
    side.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        link = side / folder.parent.parent.name
        if not link.exists():
            link.symlink_to(folder.resolve(), target_is_directory=True)
    return side


def compare_all(runs_dir: Path, cases: list[str], repeats: int, per_side: int = 1) -> list[dict[str, Any]]:
    """Every pair of every case: per repeat, or with `per_side` repeats as each side (groups of consecutive
    repeats: the two sides' runs were made interleaved in time)."""
    records = []
    for group in range(repeats // per_side):
        for case in cases:
            for pair in PAIRS:
                folder_a = _side(runs_dir, group, per_side, case, pair[0])
                folder_b = _side(runs_dir, group, per_side, case, pair[1])
                if folder_a is None or folder_b is None:
                    continue
                out = runs_dir / ("sides" if per_side > 1 else "") / f"{'g' if per_side > 1 else 'r'}{group}" / case
                try:
                    record = judge_pair(folder_a, folder_b, pair, out / "compare" / f"{pair[0]}-{pair[1]}")
                except Exception as error:  # noqa: BLE001 - one broken pair is recorded, the others still count
                    traceback.print_exc()
                    record = {"pair": f"{pair[0]} -> {pair[1]}", "kind": pair[2], "what": pair[3],
                              "error": f"{type(error).__name__}: {error}", "false_differs": [], "found": False}
                records.append({"case": case, "repeat": group, "runs_per_side": per_side, **record})
    return records


def _pair_of(record: dict[str, Any], key: str) -> str:
    """"a / b" of record[key_a] and record[key_b] as percentages, "-" where either is unknown."""
    first, second = record.get(f"{key}_a"), record.get(f"{key}_b")
    return f"{first:.0%} / {second:.0%}" if first is not None and second is not None else "-"


def print_table(records: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for record in records:
        met = ("error" if record.get("error") else
               "**no**" if record["false_differs"] or record["found"] is False else "yes")
        waits = _pair_of(record, "wait_share")
        threads = _pair_of(record, "threads_wait")
        slopes = (f"{_bytes(record.get('rss_slope_a'))} → {_bytes(record.get('rss_slope_b'))}"
                  if record.get("rss_slope_a") is not None else "-")
        rows.append([record["case"], record["pair"], record["what"], record.get("span", "-"),
                     record.get("latency", "-"), _pct(record.get("latency_raw_change")),
                     f"{_pct(record.get('latency_net_change'))} (±{_pct(record.get('latency_tolerance'))[1:]})",
                     _num(record.get("reference_ratio")), waits, threads, record.get("memory", "-"), slopes, met])
    header = ["case", "pair", "B is", "span (iterations)", "latency", "median step raw",
              "net of the machine (tolerance)", "reference B/A", "step thread's run-queue wait A / B",
              "all threads' wait fraction A / B", "memory", "RSS slope A → B", "target met"]
    print("\n".join(markdown_table(header, "lllrlrrrrrlll", rows)))
    same = [record for record in records if record["kind"] == "same"]
    planted = [record for record in records if record["kind"] == "planted"]
    false_same = sum(bool(record["false_differs"]) for record in same)
    false_planted = sum(bool(record["false_differs"]) for record in planted)
    not_comparable = sum(record.get("latency") == "not comparable" for record in same)
    totals = {"same_code_pairs": len(same), "same_code_false_differs": false_same,
              "same_code_not_comparable": not_comparable, "planted_pairs": len(planted),
              "planted_found": sum(bool(record["found"]) for record in planted),
              "planted_extra_false_differs": false_planted,
              "errors": sum(bool(record.get("error")) for record in records)}
    print()
    errors = f"; errors: {totals['errors']}" if totals["errors"] else ""
    print(f"same code: {false_same} false \"differs\" in {len(same)} pairs (target 0; latency \"not comparable\" "
          f"in {not_comparable}); planted changes found: {totals['planted_found']} of {len(planted)} (target all; "
          f"{false_planted} with a false \"differs\" besides){errors}")
    return totals
