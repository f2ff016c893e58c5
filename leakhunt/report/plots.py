"""Plots for report.html: matplotlib Agg figures returned as PNG data URIs (no pyplot, no global state).

Series are downsampled before drawing so 8 strategies x 100k points still render in a few seconds; the
numbers drawn (fitted lines, warm-up ends) come from the analysis, never computed here.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leakhunt.analysis.leak import iteration_series, memory_series
from leakhunt.analysis.robust import median_bin

MAX_PLOT_POINTS = 1500  # per line: more than a 1000-px-wide axis can show
MAX_SCATTER_POINTS = 2500
OVERLAY_POINTS = 600
HISTOGRAM_BINS = 50
HISTOGRAM_CLIP_PERCENTILE = 99.5  # a few huge outliers (first trace, GC pauses) would squash the rest
ROLLING_MEDIAN_FRACTION = 0.02  # rolling window: 2% of the run, at least ROLLING_MEDIAN_MIN
ROLLING_MEDIAN_MIN = 5
DPI = 80
MIB = 2**20
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
          "#7f7f7f", "#bcbd22")


def plot_text(text: Any) -> str:
    """Matplotlib reads $...$ as math; user strings must show as typed."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


def _stride(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= limit:
        return x, y
    index = np.linspace(0, len(x) - 1, limit).astype(int)
    return x[index], y[index]


def _to_data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _by_step(samples: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(step, bytes) including the warm-up samples; callers subtract warmup_steps so it plots left of 0."""
    return memory_series(samples, column, 0)


SECONDARY_SERIES = {  # what the right-hand axis shows when that series decided the verdict
    "heap": ("heap_bytes", "C heap in use (MiB)", MIB),
    "py_blocks": ("py_blocks", "Python blocks (thousands)", 1000.0),
    "tf_current": ("tf_current_bytes", "TF allocator current (MiB)", MIB),
}


def child_rss_series(iterations: pd.DataFrame | None, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The child's end-of-step RSS readings by step (warm-up left of 0); empty for old run folders."""
    if iterations is None:
        return np.empty(0), np.empty(0)
    x, y = iteration_series(iterations, "rss_bytes", 0)
    return x - warmup_steps, y


def _secondary_axis(axis, analysis, samples: pd.DataFrame, iterations: pd.DataFrame | None) -> None:
    """The right-hand axis: the series that decided (heap, Python blocks), else GPU, else the TF allocator."""
    warmup = analysis.warmup_steps
    deciding = analysis.verdict.deciding_series
    gx, gy = _by_step(samples, "gpu_process_bytes")
    if deciding not in SECONDARY_SERIES and len(gx):
        twin = axis.twinx()
        gx, gy = _stride(gx - warmup, gy, MAX_PLOT_POINTS)
        twin.plot(gx, gy / MIB, color=COLORS[3], linewidth=0.8, label="GPU process")
        twin.set_ylabel("GPU (MiB)", fontsize=8, color=COLORS[3])
        twin.tick_params(labelsize=7)
        return
    column, ylabel, scale = SECONDARY_SERIES.get(deciding or "", SECONDARY_SERIES["tf_current"])
    if iterations is None:
        return
    tx, ty = iteration_series(iterations, column, 0)
    if not len(tx):
        return
    twin = axis.twinx()
    tx, ty = _stride(tx - warmup, ty, MAX_PLOT_POINTS)
    # Read every K steps in the child: markers, since a line would invent what happened between.
    twin.scatter(tx, ty / scale, s=5, marker="x", color=COLORS[3], linewidths=0.6)
    suffix = " (decided)" if deciding in SECONDARY_SERIES else ""
    twin.set_ylabel(ylabel + suffix, fontsize=8, color=COLORS[3])
    twin.tick_params(labelsize=7)


def _memory_panel(axis, analysis, samples: pd.DataFrame, series_label: str,
                  iterations: pd.DataFrame | None = None) -> None:
    warmup = analysis.warmup_steps
    x, y = _by_step(samples, "rss_bytes")
    x = x - warmup
    cx, cy = child_rss_series(iterations, warmup)
    axis.set_title(plot_text(f"{series_label}: memory"), fontsize=9)
    axis.set_xlabel("measured iteration", fontsize=8)
    axis.set_ylabel("RSS (MiB)", fontsize=8)
    if len(x) == 0 and len(cx) == 0:
        axis.text(0.5, 0.5, "no memory samples", ha="center", va="center", transform=axis.transAxes)
        return
    if len(x):
        px, py = _stride(x, y, MAX_PLOT_POINTS)
        # The parent's steady-clock samples see inside a step (peaks, dips); faint, behind the readings.
        axis.plot(px, py / MIB, color=COLORS[0], linewidth=0.6, alpha=0.35 if len(cx) else 1.0,
                  label="RSS (parent samples)")
    if len(cx):
        qx, qy = _stride(cx, cy, MAX_PLOT_POINTS)
        axis.plot(qx, qy / MIB, color=COLORS[0], linewidth=1.0, label="RSS (end of step)")
    ux, uy = _by_step(samples, "uss_bytes")
    if len(ux):
        # USS is read on a time budget (about once a second for a TensorFlow child): dots, not a line.
        ux, uy = _stride(ux - warmup, uy, MAX_PLOT_POINTS)
        axis.scatter(ux, uy / MIB, s=4, color=COLORS[2], linewidths=0, label="USS")
    lowest = min(x.min() if len(x) else 0.0, cx.min() if len(cx) else 0.0)
    if lowest < 0:
        axis.axvspan(lowest, 0, color="#999999", alpha=0.25, label="warm-up (--warmup)")
    estimate = analysis.estimates.get("rss")
    if estimate is not None:
        if estimate.warmup_end_iteration > 0:
            axis.axvspan(0, estimate.warmup_end_iteration, color="#f0ad4e", alpha=0.25, label="detected warm-up")
        if estimate.fit is not None:
            line_x = np.array([estimate.first_iteration, estimate.last_iteration], dtype=float)
            line_y = estimate.fit.intercept + estimate.fit.slope * line_x
            axis.plot(line_x, line_y / MIB, color="#000000", linestyle="--", linewidth=1.2, label="fit")
    _secondary_axis(axis, analysis, samples, iterations)
    axis.legend(fontsize=7, loc="upper left")
    axis.tick_params(labelsize=7)


def _latency_panels(axis_series, axis_hist, analysis) -> None:
    x, y = analysis.latency_iteration, analysis.latency_ms
    axis_series.set_title("latency", fontsize=9)
    axis_series.set_xlabel("measured iteration", fontsize=8)
    axis_series.set_ylabel("ms", fontsize=8)
    axis_hist.set_title("latency histogram", fontsize=9)
    axis_hist.set_xlabel("ms", fontsize=8)
    for axis in (axis_series, axis_hist):
        axis.tick_params(labelsize=7)
    if len(y) == 0:
        for axis in (axis_series, axis_hist):
            axis.text(0.5, 0.5, "no measured iterations", ha="center", va="center", transform=axis.transAxes)
        return
    sx, sy = _stride(x, y, MAX_SCATTER_POINTS)
    axis_series.scatter(sx, sy, s=2, color=COLORS[0], alpha=0.35, linewidths=0, rasterized=True)
    window = max(ROLLING_MEDIAN_MIN, int(len(y) * ROLLING_MEDIAN_FRACTION))
    rolling = pd.Series(y).rolling(window, center=True, min_periods=1).median().to_numpy()
    rx, ry = _stride(x, rolling, MAX_PLOT_POINTS)
    axis_series.plot(rx, ry, color=COLORS[1], linewidth=1.2, label=f"rolling median ({window})")
    reference_x, reference_ms = analysis.reference_iteration, analysis.reference_ms
    if len(reference_ms) >= 2:
        # The machine-speed reference scaled to the workload's median: where both rise together, the
        # machine got slower, not the workload.
        scaled = reference_ms / float(np.median(reference_ms)) * float(np.median(y))
        rolling_reference = pd.Series(scaled).rolling(5, center=True, min_periods=1).median().to_numpy()
        axis_series.plot(reference_x, rolling_reference, color=COLORS[4], linewidth=1.0, linestyle=":",
                         label="machine-speed reference (scaled)")
    top = float(np.percentile(y, HISTOGRAM_CLIP_PERCENTILE))
    upper = max(top, float(np.min(y)) + 1e-9)
    axis_series.set_ylim(bottom=min(0.0, float(np.min(y))), top=upper * 1.1)
    axis_series.legend(fontsize=7, loc="upper left")
    axis_hist.hist(np.clip(y, None, upper), bins=HISTOGRAM_BINS, color=COLORS[0], alpha=0.8)
    axis_hist.set_ylabel("iterations", fontsize=8)


def strategy_figure(analysis, samples: pd.DataFrame, label: str, iterations: pd.DataFrame | None = None) -> str:
    figure = Figure(figsize=(12, 3.1))
    axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.3, 0.8]})
    _memory_panel(axes[0], analysis, samples, label, iterations)
    _latency_panels(axes[1], axes[2], analysis)
    # Fixed margins: tight_layout draws the figure twice just to measure it.
    figure.subplots_adjust(left=0.05, right=0.97, bottom=0.16, top=0.9, wspace=0.42)
    return _to_data_uri(figure)


def overlay_figure(analyses, samples_list: list[pd.DataFrame], labels: list[str],
                   iterations_list: list[pd.DataFrame | None] | None = None) -> str | None:
    iterations_list = iterations_list or [None] * len(analyses)
    figure = Figure(figsize=(12, 3.6))
    axis = figure.subplots()
    drawn = 0
    for number, (analysis, samples, label, iterations) in enumerate(
            zip(analyses, samples_list, labels, iterations_list)):
        # The child's end-of-step readings when present: free of the dips a steady clock catches mid-step.
        x, y = child_rss_series(iterations, analysis.warmup_steps)
        x, y = x[x >= 0], y[x >= 0]
        if len(x) == 0:
            x, y = memory_series(samples, "rss_bytes", analysis.warmup_steps)
        if len(x) == 0:
            continue
        bx, by = median_bin(x, y, OVERLAY_POINTS)
        axis.plot(bx, (by - by[0]) / MIB, linewidth=1.1, color=COLORS[number % len(COLORS)],
                  label=plot_text(label))
        drawn += 1
    if not drawn:
        return None
    axis.set_title("RSS growth since the first measured reading, all strategies", fontsize=9)
    axis.set_xlabel("measured iteration", fontsize=8)
    axis.set_ylabel("RSS growth (MiB)", fontsize=8)
    axis.axhline(0, color="#999999", linewidth=0.6)
    axis.legend(fontsize=7, loc="upper left", ncol=2)
    axis.tick_params(labelsize=7)
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.92)
    return _to_data_uri(figure)


def render_run_plots(analyses, strategies, summary: dict[str, Any]) -> dict[str, Any]:
    """{"overlay": uri|None, "strategies": [uri per strategy]}; labels come from the (maybe redacted) summary."""
    labels = [str(entry.get("name")) for entry in summary.get("strategies", [])]
    from leakhunt.analysis.summarize import judged_samples

    samples_list = [judged_samples(strategy) for strategy in strategies]
    return {
        "overlay": overlay_figure(analyses, samples_list, labels, [s.iterations for s in strategies]),
        "strategies": [strategy_figure(a, s, label, strategy.iterations)
                       for a, s, label, strategy in zip(analyses, samples_list, labels, strategies)],
    }
