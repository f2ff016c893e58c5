"""report.html: one self-contained file (inline CSS, PNG data URIs, strict CSP, no scripts, no network)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jinja2

from leakhunt.report.formatting import (MISSING, environment_line, fmt_bytes, fmt_count, fmt_duration, is_number, iterations_text,
                                        fmt_interval, fmt_ms, fmt_number, fmt_rate, fmt_slope_with_ci)

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


def _projection_text(projection: dict[str, Any]) -> list[str]:
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


def _drift_text(entry: dict[str, Any]) -> str:
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
    return text


def strategy_view(entry: dict[str, Any], plot: str | None) -> dict[str, Any]:
    latency = entry.get("latency_ms") or {}
    hints = entry.get("hints") or []
    memory_rows = []
    for series, values in (entry.get("memory") or {}).items():
        memory_rows.append({
            "series": series,
            "verdict": values.get("verdict") or MISSING,
            "slope": fmt_slope_with_ci(values.get("slope_bytes_per_iter"), values.get("slope_ci95_bytes_per_iter")),
            "early": fmt_rate(values.get("early_slope_bytes_per_iter")),
            "recent": fmt_rate(values.get("recent_slope_bytes_per_iter")),
            "growth": fmt_bytes(values.get("growth_bytes"), signed=True),
            "peak": fmt_bytes(values.get("peak_bytes")),
            "warmup_end": fmt_count(values.get("warmup_end_iteration")),
        })
    return {
        "anchor": f"strategy-{entry.get('index', 0)}",
        "name": str(entry.get("name")),
        "verdict": str(entry.get("verdict")),
        "verdict_reason": str(entry.get("verdict_reason") or ""),
        "outcome": str(entry.get("outcome") or ""),
        "description_outcome": str(entry.get("description") or ""),
        "error_text": entry.get("error_text"),
        "traceback": (entry.get("error") or {}).get("traceback"),
        "slope": fmt_slope_with_ci(entry.get("rss_slope_bytes_per_iter"), entry.get("rss_slope_ci95_bytes_per_iter")),
        "growth": fmt_bytes(entry.get("rss_growth_bytes"), signed=True),
        "p50": fmt_ms(latency.get("p50")),
        "p90": fmt_ms(latency.get("p90")),
        "p99": fmt_ms(latency.get("p99")),
        "max": fmt_ms(latency.get("max")),
        "images_per_s": fmt_number(entry.get("images_per_s")),
        "peak_rss": fmt_bytes(entry.get("peak_rss_bytes")),
        "peak_gpu": fmt_bytes(entry.get("peak_gpu_bytes")),
        "iterations": iterations_text(entry),
        "stop_line": (f"{entry.get('stop_reason')}; the verdict covers {entry.get('verdict_covers')}."
                      if entry.get("stopped_early") else ""),
        "warmup_end": fmt_count(entry.get("warmup_end_iteration")),
        "drift": _drift_text(entry),
        "drift_significant": bool(entry.get("latency_drift_significant")),
        "first_hint": hints[0]["kind"].replace("_", " ") if hints else "",
        "hints": hints,
        "more_iterations_needed": entry.get("more_iterations_needed"),
        "projection": _projection_text(entry.get("projection") or {}),
        "strategy_description": str((entry.get("strategy") or {}).get("description") or ""),
        "code_pattern": str((entry.get("strategy") or {}).get("code_pattern") or ""),
        "factory": str((entry.get("strategy") or {}).get("factory") or ""),
        "factory_kwargs": json.dumps((entry.get("strategy") or {}).get("factory_kwargs") or {}, sort_keys=True),
        "memory_rows": memory_rows,
        "plot": plot,
        # What the child says could not take effect (e.g. a GPU axis on a machine without a GPU).
        "child_notes": [str(note) for note in (entry.get("child") or {}).get("notes") or []],
    }


def render_html(summary: dict[str, Any], plots: dict[str, Any] | None = None) -> str:
    plots = plots or {}
    strategy_plots = list(plots.get("strategies") or [])
    entries = summary.get("strategies", [])
    strategy_plots += [None] * (len(entries) - len(strategy_plots))
    run = summary.get("run", {})
    environment = run.get("environment") or {}
    env_rows = [(key, json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value))
                for key, value in environment.items()]
    command = run.get("command_line") or []
    template = _environment().get_template("report.html.j2")
    return template.render(
        leak_found=bool(summary.get("leak_found")),
        strategies=[strategy_view(entry, plot) for entry, plot in zip(entries, strategy_plots)],
        overlay=plots.get("overlay"),
        run=run,
        command_line=" ".join(shlex.quote(str(part)) for part in command),
        environment_line=environment_line(environment),
        environment_rows=env_rows,
        samplers=sorted((run.get("samplers") or {}).items()),
        config_rows=[(key, MISSING if value is None else str(value)) for key, value in (run.get("config") or {}).items()],
        notes=run.get("notes") or [],
    )
