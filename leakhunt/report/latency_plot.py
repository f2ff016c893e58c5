"""The latency panels of one strategy: per-iteration latency (a band once there are many), its rolling median,
the machine-speed reference scaled to it, and a histogram clipped above the 99.5th percentile. A run with
latency blocks draws the same panels from merged bucket counts (a median and a middle-90% band per bin).
Latency is drawn in ms, us or ns, whichever its median needs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.analysis.latency_bins import latency_bins
from leakhunt.analysis.latency_history import span_counts
from leakhunt.report.plot_series import MAX_LINE_POINTS, binned_band, envelope
from leakhunt.report.plot_style import NEUTRAL, legend_below, style_axis
from leakhunt.rundir.latency_histogram import bucket_value_ms, quantiles_from_counts

LATENCY_BAND_BINS = 120
HISTOGRAM_BINS = 40
HISTOGRAM_CLIP_PERCENTILE = 99.5  # a few huge outliers (first trace, GC pauses) would squash the rest
ROLLING_MEDIAN_FRACTION = 0.02  # rolling window: 2% of the run, at least ROLLING_MEDIAN_MIN
ROLLING_MEDIAN_MIN = 5


def latency_unit(median_ms: float) -> tuple[str, float]:
    """The unit a latency axis is drawn in, and the factor from ms to it."""
    if median_ms >= 1 or not np.isfinite(median_ms):
        return "ms", 1.0
    return ("us", 1e3) if median_ms >= 1e-3 else ("ns", 1e6)


def _label_axes(axis_series, axis_hist, unit: str) -> None:
    axis_series.set_title("latency", fontsize=9)
    axis_series.set_xlabel("measured iteration", fontsize=8)
    axis_series.set_ylabel(unit, fontsize=8)
    axis_hist.set_title("latency histogram", fontsize=9)
    axis_hist.set_xlabel(unit, fontsize=8)
    for axis in (axis_series, axis_hist):
        style_axis(axis)


def _reference_line(axis_series, analysis, median: float, handles: list, labels: list) -> None:
    reference_x, reference_ms = analysis.reference_iteration, analysis.reference_ms
    if len(reference_ms) >= 2:
        # The machine-speed reference scaled to the workload's median: where both rise together, the
        # machine got slower, not the workload.
        scaled = reference_ms / float(np.median(reference_ms)) * median
        rolling_reference = pd.Series(scaled).rolling(5, center=True, min_periods=1).median().to_numpy()
        fx, fy = envelope(reference_x, rolling_reference, MAX_LINE_POINTS)
        (line,) = axis_series.plot(fx, fy, color=NEUTRAL, linewidth=0.9, linestyle=":")
        handles.append(line)
        labels.append("machine speed (scaled)")


def latency_panels(axis_series, axis_hist, analysis, color: str) -> None:
    history = getattr(analysis, "latency_history", None)
    if history is not None and not history.exact:
        _binned_panels(axis_series, axis_hist, analysis, history, color)
        return
    x, y = analysis.latency_iteration, analysis.latency_ms
    unit, factor = latency_unit(float(np.median(y)) if len(y) else 1.0)
    _label_axes(axis_series, axis_hist, unit)
    if len(y) == 0:
        for axis in (axis_series, axis_hist):
            axis.text(0.5, 0.5, "no measured iterations", ha="center", va="center", transform=axis.transAxes)
        return
    y = y * factor
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
    _reference_line(axis_series, analysis, float(np.median(y)), handles, labels)
    top = float(np.percentile(y, HISTOGRAM_CLIP_PERCENTILE))
    upper = max(top, float(np.min(y)) + 1e-9)
    axis_series.set_ylim(bottom=min(0.0, float(np.min(y))), top=upper * 1.1)
    legend_below(axis_series, handles, labels)
    axis_hist.hist(np.clip(y, None, upper), bins=HISTOGRAM_BINS, color=color, alpha=0.85)
    axis_hist.set_ylabel("iterations", fontsize=8)


def _binned_panels(axis_series, axis_hist, analysis, history, color: str) -> None:
    """The panels of a run with latency blocks: per equal-count bin its median and middle 90%, and the
    histogram of the merged bucket counts."""
    buckets, counts = span_counts(history, -np.inf, np.inf)
    median_ms, clip_ms = quantiles_from_counts(buckets, counts, [0.5, HISTOGRAM_CLIP_PERCENTILE / 100])
    unit, factor = latency_unit(float(median_ms))
    _label_axes(axis_series, axis_hist, unit)
    bins = latency_bins(history, LATENCY_BAND_BINS)
    x = bins.middle
    handles: list = [axis_series.fill_between(x, bins.quantile(0.05) * factor, bins.quantile(0.95) * factor,
                                              color=color, alpha=0.2, linewidth=0)]
    labels = ["middle 90%"]
    (line,) = axis_series.plot(x, bins.quantile(0.5) * factor, color=color, linewidth=1.3)
    handles.append(line)
    labels.append(f"median of every ~{bins.steps.mean():,.0f} iterations")
    _reference_line(axis_series, analysis, float(median_ms) * factor, handles, labels)
    values = bucket_value_ms(buckets) * factor
    upper = max(float(clip_ms) * factor, float(values.min()) + 1e-9)
    axis_series.set_ylim(bottom=min(0.0, float(values.min())), top=upper * 1.1)
    legend_below(axis_series, handles, labels)
    axis_hist.hist(np.clip(values, None, upper), bins=HISTOGRAM_BINS, weights=counts, color=color, alpha=0.85)
    axis_hist.set_ylabel("iterations", fontsize=8)
