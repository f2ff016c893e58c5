"""The all-strategies figure: small multiples of each strategy's RSS, each on its own scale."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from leakhunt.analysis.leak import PARENT_KIND, memory_series, transient_width_points, without_transients
from leakhunt.analysis.settle import SETTLE_SERIES
from leakhunt.analysis.summary_types import StrategySummary
from leakhunt.report.formatting import memory_text
from leakhunt.report.plot_series import child_rss_series, envelope, memory_scale, scale_limits
from leakhunt.report.plot_style import style_axis
from leakhunt.report.svg import SVG_RC, plot_text, to_inline_svg
from leakhunt.report.views import strategy_color

OVERLAY_LINE_POINTS = 500
MAX_TITLE_CHARS = 60


def overlay_series(analysis, samples: pd.DataFrame, iterations: pd.DataFrame | None):
    """(x, readings, transient-free level) of a strategy's RSS over the measured iterations."""
    x, y = child_rss_series(iterations, analysis.warmup_steps)
    keep = x >= 0
    x, y = x[keep], y[keep]
    kind = SETTLE_SERIES["rss"][1]
    if len(x) < 10:
        x, y = memory_series(samples, "rss_bytes", analysis.warmup_steps)
        kind = PARENT_KIND
    if len(x) == 0:
        return x, y, y
    level = without_transients(y, transient_width_points(x, kind), kind.iteration_aligned)
    return x, y, level


def _short(label: str) -> str:
    """A strategy name that fits over a small panel (the table and the sections show it whole)."""
    return label if len(label) <= MAX_TITLE_CHARS else label[:MAX_TITLE_CHARS - 1] + "…"


def _overlay_columns(count: int) -> int:
    return 1 if count == 1 else 2 if count <= 4 else 3 if count <= 9 else 4


def overlay_figure(analyses, samples_list: list[pd.DataFrame], labels: list[str],
                   iterations_list: list[pd.DataFrame | None] | None = None,
                   entries: list[StrategySummary] | None = None, levels_list: list | None = None) -> str | None:
    with matplotlib.rc_context(SVG_RC):
        return _overlay_figure(analyses, samples_list, labels, iterations_list, entries, levels_list)


def _overlay_figure(analyses, samples_list, labels, iterations_list, entries, levels_list) -> str | None:
    """Small multiples: each strategy's RSS on its own scale (so a 40 MiB trend is not flattened by another
    strategy's 700 MiB sawtooth), the transient-free level as the line, readings as faint marks, and
    transients beyond the scale as marks on its edge."""
    iterations_list = iterations_list or [None] * len(analyses)
    entries = entries or [{} for _ in analyses]
    levels_list = levels_list or [None] * len(analyses)
    series = [overlay_series(a, s, i) for a, s, i in zip(analyses, samples_list, iterations_list, strict=False)]
    drawn = [k for k, (x, _, _) in enumerate(series) if len(x)]
    if not drawn:
        return None
    columns = _overlay_columns(len(drawn))
    rows = math.ceil(len(drawn) / columns)
    figure = Figure(figsize=(12, 0.4 + 2.5 * rows))
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
    for axis in axes[len(drawn):]:
        axis.set_visible(False)
    for axis, k in zip(axes, drawn, strict=False):
        x, raw, level = series[k]
        analysis = analyses[k]
        color = strategy_color(analysis.index)
        scale, unit = memory_scale(level)
        bottom, top = scale_limits(float(np.min(level)), float(np.max(level)))
        rx, ry = envelope(x, raw, OVERLAY_LINE_POINTS)
        axis.plot(rx, np.clip(ry, bottom, top) / scale, color=color, linewidth=0.5, alpha=0.3)
        for beyond, edge, marker in ((ry < bottom, bottom, "v"), (ry > top, top, "^")):
            if np.any(beyond):
                axis.scatter(rx[beyond], np.full(int(np.sum(beyond)), edge / scale), marker=marker, s=10,
                             color=color, alpha=0.35, linewidths=0, clip_on=False)
        lx, ly = envelope(x, level, OVERLAY_LINE_POINTS)
        axis.plot(lx, ly / scale, color=color, linewidth=1.5)
        axis.set_ylim(bottom / scale, top / scale)
        axis.set_xlim(float(x[0]), float(x[-1]) if x[-1] > x[0] else float(x[0]) + 1)
        entry = entries[k] if k < len(entries) else None
        verdict = str((entry.get("verdict") if entry else None) or analysis.verdict.verdict)
        # Name on top, what the verdict rests on below it: two lines, so long names never run into it.
        axis.set_title(plot_text(_short(labels[k])), fontsize=9, color=color, fontweight="bold", loc="left",
                       pad=15)
        axis.text(0, 1.03, plot_text(f"{verdict}: {memory_text(entry, levels_list[k])}" if entry else verdict),
                  transform=axis.transAxes, fontsize=7.5, color="#444444", ha="left", va="bottom")
        axis.set_ylabel(f"RSS ({unit})", fontsize=8)
        style_axis(axis)
    for axis in axes[max(len(drawn) - columns, 0):len(drawn)]:
        axis.set_xlabel("measured iteration", fontsize=8)
    height = 0.4 + 2.5 * rows
    figure.subplots_adjust(left=0.06, right=0.985, bottom=0.55 / height, top=1 - 0.45 / height, wspace=0.22,
                           hspace=0.75)
    return to_inline_svg(figure, "all", "RSS of every strategy against the measured iteration, each on its own scale")
