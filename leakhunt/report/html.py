"""report.html: one self-contained file (inline CSS, inline SVG plots, strict CSP, no scripts, no network)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from leakhunt.analysis.plateau_levels import Levels
from leakhunt.analysis.recommendation import recommend
from leakhunt.analysis.summary_types import (
    FullCollectionsSummary,
    ProjectionSummary,
    SeriesSummary,
    StrategySummary,
    Summary,
)
from leakhunt.report.attribution_view import attribution_view
from leakhunt.report.formatting import (
    MISSING,
    SERIES_LABELS,
    environment_line,
    fmt_amount,
    fmt_bytes,
    fmt_count,
    fmt_duration,
    fmt_ms,
    fmt_number,
    fmt_rate,
    fmt_slope_with_ci,
    is_number,
    iterations_text,
    levels_text,
    plain_numbers,
)
from leakhunt.report.view_types import HintRow, MemoryRow, RunPlots, StrategyView
from leakhunt.report.views import all_levels, max_iterations, recommendation_view, strategy_color, summary_rows

TEMPLATES_DIR = Path(__file__).parent / "templates"
# The Content-Security-Policy (no scripts, no network, images only as data: URIs) is written literally in
# the templates: autoescaping would turn its quotes into entities.


def _environment() -> jinja2.Environment:
    # autoescape=True for every template: names, paths, error text and code patterns are user strings.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _projection_text(projection: dict[str, ProjectionSummary]) -> list[str]:
    lines = []
    labels = {"host_memory": "host memory", "gpu_memory": "GPU memory"}
    for resource, values in projection.items():
        iterations = values.get("iterations_to_exhaust")
        seconds = values.get("time_to_exhaust_s")
        lines.append(
            f"{labels.get(resource, resource)}: {fmt_bytes(values.get('headroom_bytes'))} left, exhausted after "
            f"~{fmt_count(iterations)} more iterations" + (f" (~{fmt_duration(seconds)})" if seconds else "")
        )
    return lines


def _drift_text(entry: StrategySummary) -> str:
    """First to last fifth of the run, raw and net of the machine-speed reference (no scientific notation)."""
    raw = entry.get("latency_change_first_to_last_fifth")
    if not is_number(raw):
        return MISSING
    text = f"{raw:+.0%} from the first to the last fifth"
    corrected = entry.get("latency_corrected_change_first_to_last_fifth")
    if is_number(corrected):
        text += f", {corrected:+.0%} net of machine speed"
        machine = entry.get("machine_change_first_to_last_fifth")
        if is_number(machine) and machine:
            text += f" (the machine itself {machine:+.0%})"
    if entry.get("latency_faster_over_run"):
        text += "; faster over the run"
    if entry.get("latency_drift_judged") is False:
        text += ("; not judged for drift: the machine-speed kernel was read fewer than 3 times in the first or the "
                 "last fifth (a loop this short cannot tell the machine's transients from the workload's trend)")
    return text


def _collections_text(collections: FullCollectionsSummary | None) -> str:
    """Full collections during the run: forced by the child (judged net of garbage) and Python's own."""
    if not collections:
        return ""
    forced = int(collections.get("forced") or 0)
    automatic = collections.get("automatic")
    text = (f"Full collections: {forced} forced by leakhunt ({fmt_duration(collections.get('seconds'))} in all, "
            f"not counted in the latencies)")
    if isinstance(automatic, (int, float)):
        text += f", {int(automatic)} run by Python itself"
    note = collections.get("note")
    return text + (f"; {note}." if note else ".")


def _after_collections(values: SeriesSummary, unit: str) -> str:
    survival = values.get("post_collection")
    if not survival or survival.get("status") == "unchecked":
        return MISSING
    return f"{fmt_rate(survival.get('slope_bytes_per_iter'), unit)} ({survival.get('status')})"


def _memory_row(series: str, values: SeriesSummary, levels: Levels | None) -> MemoryRow:
    unit = str(values.get("unit") or "bytes")
    bounded = values.get("verdict") == "plateau"
    if bounded and levels is not None and levels.series == series:
        slope = levels_text(levels, with_series=False)
    elif bounded:
        edges = [edge for edge in (values.get("start_level_bytes"), values.get("end_level_bytes"))
                 if edge is not None and is_number(edge)]
        low = min(edges) if edges else None
        slope = (f"bounded, {fmt_amount(low, unit)} to {fmt_amount(values.get('peak_bytes'), unit)}"
                 if low is not None else "bounded")
    else:
        slope = fmt_slope_with_ci(values.get("slope_bytes_per_iter"), values.get("slope_ci95_bytes_per_iter"), unit)
    return {
        "series": SERIES_LABELS.get(series, series),
        "verdict": values.get("verdict") or MISSING,
        "pattern": values.get("pattern") or "",
        "slope": slope,
        "early": MISSING if bounded else fmt_rate(values.get("early_slope_bytes_per_iter"), unit),
        "recent": MISSING if bounded else fmt_rate(values.get("recent_slope_bytes_per_iter"), unit),
        "growth": fmt_amount(values.get("growth_bytes"), unit, signed=True),
        "after_collections": _after_collections(values, unit),
        "peak": fmt_amount(values.get("peak_bytes"), unit),
        "warmup_end": fmt_count(values.get("warmup_end_iteration")),
    }


def _traceback(entry: StrategySummary) -> str | None:
    error = entry.get("error")
    return error.get("traceback") if error else None


def strategy_view(entry: StrategySummary, plot: str | None, levels: Levels | None = None,
                  maximum: Any = None, series_levels: dict[str, Levels] | None = None) -> StrategyView:
    latency = entry.get("latency_ms") or {}
    hints: list[HintRow] = [{"kind": str(h.get("kind", "")).replace("_", " "),
                             "evidence": plain_numbers(h.get("evidence", "")), "advice": str(h.get("advice", ""))}
                            for h in entry.get("hints") or []]
    series_levels = dict(series_levels or {})
    if levels is not None:
        series_levels.setdefault(levels.series, levels)
    memory_rows = [_memory_row(series, values, series_levels.get(series))
                   for series, values in (entry.get("memory") or {}).items()]
    return {
        "anchor": f"strategy-{entry.get('index', 0)}",
        "name": str(entry.get("name")),
        "verdict": str(entry.get("verdict")),
        "verdict_reason": plain_numbers(entry.get("verdict_reason") or ""),
        "color": strategy_color(int(entry.get("index", 0) or 0)),
        "outcome": str(entry.get("outcome") or ""),
        "description_outcome": str(entry.get("description") or ""),
        "error_text": entry.get("error_text"),
        "traceback": _traceback(entry),
        "p50": fmt_ms(latency.get("p50")),
        "p90": fmt_ms(latency.get("p90")),
        "p99": fmt_ms(latency.get("p99")),
        "max": fmt_ms(latency.get("max")),
        "images_per_s": fmt_number(entry.get("images_per_s")),
        "peak_rss": fmt_bytes(entry.get("peak_rss_bytes")),
        "peak_gpu": fmt_bytes(entry.get("peak_gpu_bytes")),
        "iterations": iterations_text(entry, maximum),
        "stop_line": (f"{entry.get('stop_reason')}; the verdict covers {entry.get('verdict_covers')}."
                      if entry.get("stopped_early") else ""),
        "collections_line": _collections_text(entry.get("full_collections")),
        "warmup_end": fmt_count(entry.get("warmup_end_iteration")),
        "drift": _drift_text(entry),
        "drift_significant": bool(entry.get("latency_drift_significant")),
        "hints": hints,
        "more_iterations_needed": (fmt_count(entry.get("more_iterations_needed"))
                                   if entry.get("more_iterations_needed") else ""),
        "projection": _projection_text(entry.get("projection") or {}),
        "strategy_description": str((entry.get("strategy") or {}).get("description") or ""),
        "code_pattern": str((entry.get("strategy") or {}).get("code_pattern") or ""),
        "factory": str((entry.get("strategy") or {}).get("factory") or ""),
        "factory_kwargs": json.dumps((entry.get("strategy") or {}).get("factory_kwargs") or {}, sort_keys=True),
        "memory_rows": memory_rows,
        # Only the SVG leakhunt drew (plots.to_inline_svg checked it holds no script) is marked safe.
        "plot": Markup(plot) if plot else None,
        # What the child says could not take effect (e.g. a GPU axis on a machine without a GPU).
        "child_notes": [str(note) for note in (entry.get("child") or {}).get("notes") or []],
        # Where the leak is: the attribution pass's sites, with their stacks ("Where it grows").
        "attribution": attribution_view(entry),
    }


def _setting_text(key: str, value: Any) -> str:
    """An environment or config value as a person reads it: sizes in binary prefixes, no raw byte counts."""
    if value is None:
        return MISSING
    if is_number(value) and key.endswith("_bytes"):
        return fmt_bytes(value)
    if is_number(value) and key.endswith("_bytes_per_iter"):
        return fmt_rate(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def render_html(summary: Summary, plots: RunPlots | None = None,
                levels: list[Levels | None] | None = None,
                series_levels: list[dict[str, Levels]] | None = None) -> str:
    plots = plots or {"strategies": [], "overlay": None}
    levels = all_levels(summary, levels)
    entries = summary.get("strategies", [])
    strategy_plots = list(plots.get("strategies") or [])
    strategy_plots += [None] * (len(entries) - len(strategy_plots))
    run = summary.get("run", {})
    environment = run.get("environment") or {}
    env_rows = [(key, _setting_text(key, value)) for key, value in environment.items()]
    command = run.get("command_line") or []
    recommendation = recommend(summary)
    maximum = max_iterations(summary)
    overlay = plots.get("overlay")
    template = _environment().get_template("report.html.j2")
    return template.render(
        leak_found=bool(summary.get("leak_found")),
        recommendation=recommendation_view(summary, levels, recommendation),
        rows=summary_rows(summary, levels, recommendation),
        any_gpu=any(entry.get("peak_gpu_bytes") is not None for entry in entries),
        strategies=[strategy_view(entry, plot, level, maximum, by_series)
                    for entry, plot, level, by_series in zip(entries, strategy_plots, levels,
                                                             list(series_levels or []) + [{}] * len(entries),
                                                             strict=False)],
        overlay=Markup(overlay) if overlay else None,
        run=run,
        command_line=" ".join(shlex.quote(str(part)) for part in command),
        environment_line=environment_line(environment),
        environment_rows=env_rows,
        samplers=sorted((run.get("samplers") or {}).items()),
        config_rows=[(key, _setting_text(key, value)) for key, value in (run.get("config") or {}).items()],
        notes=run.get("notes") or [],
    )
