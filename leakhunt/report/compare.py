"""Render the comparison of two run folders (analysis/comparison.py decides what differs) as md/html/json."""

from __future__ import annotations

import pathlib
from typing import Any

from leakhunt import rundir
from leakhunt.analysis.comparison import (
    LATENCY_MIN_CORRECTED_CHANGE,
    LATENCY_MIN_RELATIVE_CHANGE,
    LATENCY_P_VALUE,
    compare_strategy,
)
from leakhunt.analysis.summarize import analyze_run
from leakhunt.records import RunRecord
from leakhunt.report.build import write_text_atomic
from leakhunt.report.formatting import fmt_ms, fmt_p_value, fmt_slope_with_ci
from leakhunt.report.json_out import render_json, to_jsonable
from leakhunt.report.markdown import md_escape

COMPARE_FILES = {"md": "compare.md", "html": "compare.html", "json": "compare.json"}


def _latency_cell(row: dict[str, Any]) -> str:
    text = f"{fmt_ms(row['latency_p50_a_ms'])} → {fmt_ms(row['latency_p50_b_ms'])}"
    if row.get("latency_p50_corrected_relative_change") is not None:
        text += f" ({row['latency_p50_corrected_relative_change']:+.0%} net of machine speed)"
    return text


def _latency_verdict(row: dict[str, Any]) -> str:
    if not row.get("latency_comparable", True):
        return f"not comparable: {row.get('latency_not_comparable_reason')}"
    return "**yes**" if row["latency_significant"] else "no"


def render_compare_markdown(comparison: dict[str, Any]) -> str:
    lines = ["## leakhunt comparison", "",
             f"A: {md_escape(comparison['run_a']['label'])}, B: {md_escape(comparison['run_b']['label'])}", "",
             "| Strategy | Verdict A → B | RSS slope A | RSS slope B | Slope differs | p50 A → B | Latency differs |",
             "|---|---|---|---|---|---|---|"]
    for row in comparison["strategies"]:
        lines.append("| " + " | ".join([
            md_escape(row["name"]),
            md_escape(f"{row['verdict_a']} → {row['verdict_b']}"),
            md_escape(fmt_slope_with_ci(row["rss_slope_a_bytes_per_iter"], row["rss_slope_ci95_a_bytes_per_iter"])),
            md_escape(fmt_slope_with_ci(row["rss_slope_b_bytes_per_iter"], row["rss_slope_ci95_b_bytes_per_iter"])),
            "**yes**" if row["rss_slope_significant"] else "no",
            md_escape(_latency_cell(row)),
            md_escape(_latency_verdict(row)) if not row.get("latency_comparable", True) else _latency_verdict(row),
        ]) + " |")
    for key, label in (("only_in_a", "Only in A"), ("only_in_b", "Only in B")):
        if comparison[key]:
            lines += ["", f"{label}: " + ", ".join(md_escape(name) for name in comparison[key])]
    lines += ["", "Slopes differ when their 95% intervals do not overlap; latency differs when Mann-Whitney "
              f"p < {LATENCY_P_VALUE} on latencies divided by each run's machine-speed reference and the median "
              f"moved by at least {LATENCY_MIN_CORRECTED_CHANGE:.0%} net of machine speed "
              f"({LATENCY_MIN_RELATIVE_CHANGE:.0%} for runs without a reference).", ""]
    return "\n".join(lines)


def render_compare_html(comparison: dict[str, Any]) -> str:
    from leakhunt.report.html import _environment

    rows = [{
        "name": row["name"],
        "verdicts": f"{row['verdict_a']} → {row['verdict_b']}",
        "slope_a": fmt_slope_with_ci(row["rss_slope_a_bytes_per_iter"], row["rss_slope_ci95_a_bytes_per_iter"]),
        "slope_b": fmt_slope_with_ci(row["rss_slope_b_bytes_per_iter"], row["rss_slope_ci95_b_bytes_per_iter"]),
        "slope_significant": row["rss_slope_significant"],
        "p50": _latency_cell(row),
        "p_value": fmt_p_value(row["latency_mannwhitney_p_value"]),
        "latency_significant": row["latency_significant"],
        "latency_comparable": row.get("latency_comparable", True),
        "latency_not_comparable_reason": row.get("latency_not_comparable_reason"),
    } for row in comparison["strategies"]]
    return _environment().get_template("compare.html.j2").render(
        rows=rows, run_a=comparison["run_a"], run_b=comparison["run_b"],
        only_in_a=comparison["only_in_a"], only_in_b=comparison["only_in_b"],
        p_limit=LATENCY_P_VALUE, min_change=f"{LATENCY_MIN_CORRECTED_CHANGE:.0%}")


def _run_info(run: rundir.RunData) -> dict[str, Any]:
    record = RunRecord.from_json(run.meta)
    return {"label": run.folder.name, "started_utc": record.started_utc, "command_line": list(record.command_line)}


def compare_runs(run_a: pathlib.Path, run_b: pathlib.Path, out_dir: pathlib.Path | None = None,
                 formats=("md", "html")) -> dict:
    """Match strategies by name, compare slopes and latency, write compare.md/.html to out_dir (default run_b)."""
    data_a = rundir.read_run(pathlib.Path(run_a))
    data_b = rundir.read_run(pathlib.Path(run_b))
    _, analyses_a = analyze_run(data_a)
    _, analyses_b = analyze_run(data_b)
    by_name_a = {a.name: a for a in analyses_a}
    names_b = {b.name for b in analyses_b}
    comparison = to_jsonable({
        "run_a": _run_info(data_a),
        "run_b": _run_info(data_b),
        "strategies": [compare_strategy(by_name_a[b.name], b, RunRecord.from_json(data_a.meta),
                                       RunRecord.from_json(data_b.meta))
                       for b in analyses_b if b.name in by_name_a],
        "only_in_a": [a.name for a in analyses_a if a.name not in names_b],
        "only_in_b": [b.name for b in analyses_b if b.name not in by_name_a],
    })
    target = pathlib.Path(out_dir) if out_dir is not None else pathlib.Path(run_b)
    target.mkdir(parents=True, exist_ok=True)
    renderers = {"md": render_compare_markdown, "html": render_compare_html, "json": render_json}
    for name in formats:
        if name not in renderers:
            raise ValueError(f"unknown comparison format: {name}")
        write_text_atomic(target / COMPARE_FILES[name], renderers[name](comparison))
    return comparison
