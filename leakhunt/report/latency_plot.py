"""The latency panels of one strategy: per-iteration latency (a band once there are many), its rolling median,
the machine-speed reference scaled to it, and a histogram clipped above the 99.5th percentile."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.report.plot_series import MAX_LINE_POINTS, binned_band, envelope
from leakhunt.report.plot_style import NEUTRAL, legend_below, style_axis

LATENCY_BAND_BINS = 120
HISTOGRAM_BINS = 40
HISTOGRAM_CLIP_PERCENTILE = 99.5  # a few huge outliers (first trace, GC pauses) would squash the rest
ROLLING_MEDIAN_FRACTION = 0.02  # rolling window: 2% of the run, at least ROLLING_MEDIAN_MIN
ROLLING_MEDIAN_MIN = 5


def latency_panels(axis_series, axis_hist, analysis, color: str) -> None:
    x, y = analysis.latency_iteration, analysis.latency_ms
    axis_series.set_title("latency", fontsize=9)
    axis_series.set_xlabel("measured iteration", fontsize=8)
    axis_series.set_ylabel("ms", fontsize=8)
    axis_hist.set_title("latency histogram", fontsize=9)
    axis_hist.set_xlabel("ms", fontsize=8)
    for axis in (axis_series, axis_hist):
        style_axis(axis)
    if len(y) == 0:
        for axis in (axis_series, axis_hist):
            axis.text(0.5, 0.5, "no measured iterations", ha="center", va="center", transform=axis.transAxes)
        return
    handles, labels = [], []
    if len(y) > 2 * LATENCY_BAND_BINS:
        # A band of the middle 90% per bin instead of every point: the same picture in a fraction of the SVG.
        bx, low, high = binned_band(x, y, LATENCY_BAND_BINS)
        handles.append(axis_series.fill_between(bx, low, high, color=color, alpha=0.2, linewidth=0))
        labels.append("middle 90%")
    else:
        handles.append(axis_series.scatter(x, y, s=4, color=color, alpha=0.35, linewidths=0))
        labels.append("iterations")
    window = max(ROLLING_MEDIAN_MIN, int(len(y) * ROLLING_MEDIAN_FRACTION))
    rolling = pd.Series(y).rolling(window, center=True, min_periods=1).median().to_numpy()
    rx, ry = envelope(x, rolling, MAX_LINE_POINTS)
    (line,) = axis_series.plot(rx, ry, color=color, linewidth=1.3)
    handles.append(line)
    labels.append(f"rolling median ({window})")
    reference_x, reference_ms = analysis.reference_iteration, analysis.reference_ms
    if len(reference_ms) >= 2:
        # The machine-speed reference scaled to the workload's median: where both rise together, the
        # machine got slower, not the workload.
        scaled = reference_ms / float(np.median(reference_ms)) * float(np.median(y))
        rolling_reference = pd.Series(scaled).rolling(5, center=True, min_periods=1).median().to_numpy()
        fx, fy = envelope(reference_x, rolling_reference, MAX_LINE_POINTS)
        (line,) = axis_series.plot(fx, fy, color=NEUTRAL, linewidth=0.9, linestyle=":")
        handles.append(line)
        labels.append("machine speed (scaled)")
    top = float(np.percentile(y, HISTOGRAM_CLIP_PERCENTILE))
    upper = max(top, float(np.min(y)) + 1e-9)
    axis_series.set_ylim(bottom=min(0.0, float(np.min(y))), top=upper * 1.1)
    legend_below(axis_series, handles, labels)
    axis_hist.hist(np.clip(y, None, upper), bins=HISTOGRAM_BINS, color=color, alpha=0.85)
    axis_hist.set_ylabel("iterations", fontsize=8)
