"""Compare two run folders: per-strategy deltas of memory slope and latency, and which are significant."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from scipy import stats

from leakhunt import rundir
from leakhunt.analysis.summarize import StrategyAnalysis, analyze_run
from leakhunt.report.build import write_text_atomic
from leakhunt.report.formatting import MISSING, fmt_ms, fmt_slope_with_ci
from leakhunt.report.json_out import render_json, to_jsonable
from leakhunt.report.markdown import md_escape

# Latency distributions differ "significantly" when Mann-Whitney rejects equality at this level...
LATENCY_P_VALUE = 0.01
# ...and the medians moved by at least this share: with thousands of iterations any shift is "significant",
# but run-to-run variation on one host is a couple of percent.
LATENCY_MIN_RELATIVE_CHANGE = 0.02
# Mann-Whitney on more points adds time, not information: evenly spaced subsample above this many.
LATENCY_MAX_POINTS = 20000
COMPARE_FILES = {"md": "compare.md", "html": "compare.html", "json": "compare.json"}


def _even_subsample(values: np.ndarray, limit: int) -> np.ndarray:
    if len(values) <= limit:
        return values
    return values[np.linspace(0, len(values) - 1, limit).astype(int)]


def _slope_of(analysis: StrategyAnalysis) -> tuple[float | None, list[float] | None]:
    estimate = analysis.estimates.get("rss")
    if estimate is None or estimate.fit is None:
        return None, None
    return estimate.fit.slope, [estimate.fit.ci_low, estimate.fit.ci_high]


def compare_strategy(a: StrategyAnalysis, b: StrategyAnalysis) -> dict[str, Any]:
    slope_a, ci_a = _slope_of(a)
    slope_b, ci_b = _slope_of(b)
    slope_delta = None if slope_a is None or slope_b is None else slope_b - slope_a
    slope_significant = bool(ci_a and ci_b and (ci_b[0] > ci_a[1] or ci_b[1] < ci_a[0]))
    p50_a, p50_b = a.latency.p50_ms, b.latency.p50_ms
    p_value = None
    latency_significant = False
    relative = None
    if len(a.latency_ms) >= 2 and len(b.latency_ms) >= 2:
        result = stats.mannwhitneyu(_even_subsample(a.latency_ms, LATENCY_MAX_POINTS),
                                    _even_subsample(b.latency_ms, LATENCY_MAX_POINTS), alternative="two-sided")
        p_value = float(result.pvalue)
        if p50_a:
            relative = (p50_b - p50_a) / p50_a
        latency_significant = bool(p_value < LATENCY_P_VALUE and relative is not None
                                   and abs(relative) >= LATENCY_MIN_RELATIVE_CHANGE)
    return {
        "name": b.name,
        "verdict_a": a.verdict.verdict,
        "verdict_b": b.verdict.verdict,
        "verdict_changed": a.verdict.verdict != b.verdict.verdict,
        "rss_slope_a_bytes_per_iter": slope_a,
        "rss_slope_ci95_a_bytes_per_iter": ci_a,
        "rss_slope_b_bytes_per_iter": slope_b,
        "rss_slope_ci95_b_bytes_per_iter": ci_b,
        "rss_slope_delta_bytes_per_iter": slope_delta,
        "rss_slope_significant": slope_significant,
        "latency_p50_a_ms": p50_a,
        "latency_p50_b_ms": p50_b,
        "latency_p50_delta_ms": None if p50_a is None or p50_b is None else p50_b - p50_a,
        "latency_p50_relative_change": relative,
        "latency_p99_a_ms": a.latency.p99_ms,
        "latency_p99_b_ms": b.latency.p99_ms,
        "latency_mannwhitney_p_value": p_value,
        "latency_significant": latency_significant,
        "images_per_s_a": a.latency.images_per_s,
        "images_per_s_b": b.latency.images_per_s,
    }


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
            md_escape(f"{fmt_ms(row['latency_p50_a_ms'])} → {fmt_ms(row['latency_p50_b_ms'])}"),
            "**yes**" if row["latency_significant"] else "no",
        ]) + " |")
    for key, label in (("only_in_a", "Only in A"), ("only_in_b", "Only in B")):
        if comparison[key]:
            lines += ["", f"{label}: " + ", ".join(md_escape(name) for name in comparison[key])]
    lines += ["", "Slopes differ when their 95% intervals do not overlap; latency differs when Mann-Whitney "
              f"p < {LATENCY_P_VALUE} and the median moved by at least {LATENCY_MIN_RELATIVE_CHANGE:.0%}.", ""]
    return "\n".join(lines)


def render_compare_html(comparison: dict[str, Any]) -> str:
    from leakhunt.report.html import _environment

    rows = [{
        "name": row["name"],
        "verdicts": f"{row['verdict_a']} → {row['verdict_b']}",
        "slope_a": fmt_slope_with_ci(row["rss_slope_a_bytes_per_iter"], row["rss_slope_ci95_a_bytes_per_iter"]),
        "slope_b": fmt_slope_with_ci(row["rss_slope_b_bytes_per_iter"], row["rss_slope_ci95_b_bytes_per_iter"]),
        "slope_significant": row["rss_slope_significant"],
        "p50": f"{fmt_ms(row['latency_p50_a_ms'])} → {fmt_ms(row['latency_p50_b_ms'])}",
        "p_value": MISSING if row["latency_mannwhitney_p_value"] is None else f"{row['latency_mannwhitney_p_value']:.3g}",
        "latency_significant": row["latency_significant"],
    } for row in comparison["strategies"]]
    return _environment().get_template("compare.html.j2").render(
        rows=rows, run_a=comparison["run_a"], run_b=comparison["run_b"],
        only_in_a=comparison["only_in_a"], only_in_b=comparison["only_in_b"],
        p_limit=LATENCY_P_VALUE, min_change=f"{LATENCY_MIN_RELATIVE_CHANGE:.0%}")


def _run_info(run: rundir.RunData) -> dict[str, Any]:
    return {"label": run.folder.name, "started_utc": run.meta.get("started_utc"),
            "command_line": list(run.meta.get("command_line") or [])}


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
        "strategies": [compare_strategy(by_name_a[b.name], b) for b in analyses_b if b.name in by_name_a],
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
