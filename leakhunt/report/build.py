"""Build summary.json / summary.md / report.html for a run folder, from the files on disk only."""

from __future__ import annotations

import os
import pathlib

from leakhunt import rundir
from leakhunt.analysis.summarize import analyze_run
from leakhunt.analysis.summary_types import Summary
from leakhunt.report.json_out import render_json, to_jsonable
from leakhunt.report.redact import redact_obj

OUTPUT_FILES = {"json": rundir.SUMMARY_JSON_FILE, "md": rundir.SUMMARY_MD_FILE, "html": rundir.REPORT_HTML_FILE}


def write_text_atomic(path: pathlib.Path, text: str) -> None:
    """Temp file + fsync + rename: a reader (or a crash) never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def build_outputs(run_dir: pathlib.Path, formats: tuple[str, ...] = ("json", "md", "html"),
                  redact_paths: bool = False) -> Summary:
    """Analyse the run folder and write the requested outputs into it; returns the summary dict.

    Raises NotARunFolderError (via rundir.read_run) when run_dir is not a run folder.
    """
    run_dir = pathlib.Path(run_dir)
    run = rundir.read_run(run_dir)
    judged, analyses = analyze_run(run)
    # The renderers read what summary.json holds: floats rounded, then paths redacted; the shape is unchanged.
    summary: Summary = to_jsonable(judged)
    if redact_paths:
        summary = redact_obj(summary)
    unknown = [name for name in formats if name not in OUTPUT_FILES]
    if unknown:
        raise ValueError(f"unknown output format(s): {', '.join(unknown)}")
    if "json" in formats:
        write_text_atomic(run_dir / OUTPUT_FILES["json"], render_json(summary))
    levels = series_levels = None
    if "md" in formats or "html" in formats:
        from leakhunt.analysis.plateau_levels import run_levels, run_series_levels

        # Bounds of plateau strategies (lowest/highest level, release period) need the readings themselves.
        series_levels = run_series_levels(analyses, run.strategies, summary)
        levels = run_levels(analyses, run.strategies, summary, series_levels)
    if "md" in formats:
        from leakhunt.report.markdown import render_markdown

        write_text_atomic(run_dir / OUTPUT_FILES["md"], render_markdown(summary, levels))
    if "html" in formats:
        from leakhunt.report.html import render_html
        from leakhunt.report.plots import render_run_plots

        plots = render_run_plots(analyses, run.strategies, summary, levels)
        write_text_atomic(run_dir / OUTPUT_FILES["html"], render_html(summary, plots, levels, series_levels))
    return summary


def leak_found(summary: Summary, threshold_bytes_per_iter: float = 0.0) -> bool:
    """True when any strategy's memory leaks at or above threshold_bytes_per_iter (for --fail-on-leak).

    A strategy that crashed or failed still counts when the data it left shows a leak (an OOM kill is the
    leak's last symptom, not its absence).
    """
    for entry in summary.get("strategies", []):
        if entry.get("memory_verdict", entry.get("verdict")) != "leak":
            continue
        slope = entry.get("deciding_slope_bytes_per_iter")
        if slope is None:
            slope = entry.get("rss_slope_bytes_per_iter")
        if slope is None or slope >= threshold_bytes_per_iter:
            return True
    return False
