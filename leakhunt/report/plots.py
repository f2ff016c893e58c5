"""Plots for report.html: matplotlib figures (no pyplot, no global state) as inline SVG elements.

Series are downsampled before drawing (keeping each bin's lowest and highest point, so dips and peaks survive)
so 8 strategies x 100k points stay a few MiB at most. Numbers drawn (fits, warm-up ends, bounds) come from the
analysis; words come from report.formatting. Each strategy has one color (report.views.STRATEGY_COLORS) in
every chart; legends sit below the data.

This module puts one strategy's panels together and renders a whole run; the pieces live in svg.py (SVG
output), plot_series.py (downsampling, scales), plot_style.py, memory_plot.py, latency_plot.py and
overlay_plot.py (all strategies).
"""

from __future__ import annotations

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from leakhunt.analysis.summarize import judged_samples
from leakhunt.analysis.summary_types import Summary
from leakhunt.report.latency_plot import latency_panels
from leakhunt.report.memory_plot import memory_panel
from leakhunt.report.overlay_plot import overlay_figure, overlay_series
from leakhunt.report.plot_series import child_rss_series, envelope
from leakhunt.report.svg import SVG_RC, plot_text, to_inline_svg
from leakhunt.report.view_types import RunPlots
from leakhunt.report.views import strategy_color

# Names other modules and tests import from here.
__all__ = ["child_rss_series", "envelope", "overlay_figure", "overlay_series", "plot_text", "render_run_plots",
           "strategy_figure", "to_inline_svg"]


def strategy_figure(analysis, samples: pd.DataFrame, label: str, iterations: pd.DataFrame | None = None,
                    color: str | None = None, levels=None, figure_id: str = "s0") -> str:
    with matplotlib.rc_context(SVG_RC):  # fonts and spines are read when the axes and texts are made
        return _strategy_figure(analysis, samples, label, iterations, color, levels, figure_id)


def _strategy_figure(analysis, samples, label, iterations, color, levels, figure_id) -> str:
    color = color or strategy_color(analysis.index)
    figure = Figure(figsize=(12, 3.5))
    axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.3, 0.8]})
    memory_panel(axes[0], analysis, samples, color, iterations, levels)
    latency_panels(axes[1], axes[2], analysis, color)
    # Fixed margins (tight_layout draws the figure twice just to measure it); room below for the legends.
    figure.subplots_adjust(left=0.055, right=0.975, bottom=0.33, top=0.92, wspace=0.38)
    return to_inline_svg(figure, figure_id, f"memory and latency of {label}")


def render_run_plots(analyses, strategies, summary: Summary, levels: list | None = None) -> RunPlots:
    """{"overlay": svg|None, "strategies": [svg per strategy]}; labels come from the (maybe redacted) summary."""
    entries = list(summary.get("strategies", []))
    labels = [str(entry.get("name")) for entry in entries]
    levels = list(levels or [None] * len(entries))
    samples_list = [judged_samples(strategy) for strategy in strategies]
    return {
        "overlay": overlay_figure(analyses, samples_list, labels, [s.iterations for s in strategies], entries, levels),
        "strategies": [strategy_figure(a, s, label, strategy.iterations, strategy_color(a.index), level, f"s{a.index}")
                       for a, s, label, strategy, level in zip(analyses, samples_list, labels, strategies, levels,
                                                               strict=False)],
    }
