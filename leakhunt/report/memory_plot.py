"""The memory panel of one strategy: RSS (parent samples and the child's end-of-step readings), USS, the
warm-up, the bounds or the slope fit, and on the right-hand axis the series that decided the verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.analysis.leak import iteration_series
from leakhunt.report.plot_series import (
    MAX_LINE_POINTS,
    MAX_MARK_POINTS,
    MIB,
    child_rss_series,
    envelope,
    memory_scale,
    samples_by_step,
    scale_limits,
    spread,
)
from leakhunt.report.plot_style import (
    BOUNDS_COLOR,
    DETECTED_WARMUP_COLOR,
    FIT_COLOR,
    NEUTRAL,
    WARMUP_COLOR,
    legend_below,
    style_axis,
)

SECONDARY_SERIES = {  # what the right-hand axis shows when that series decided the verdict
    "heap": ("heap_bytes", "C heap in use", MIB, "MiB"),
    "py_blocks": ("py_blocks", "Python blocks", 1000.0, "thousands"),
    "tf_current": ("tf_current_bytes", "TF allocator in use", MIB, "MiB"),
}


def _secondary_axis(axis, analysis, samples: pd.DataFrame, iterations: pd.DataFrame | None):
    """The right-hand axis: the series that decided (heap, Python blocks), else GPU, else the TF allocator.
    Returns (handles, labels) for the shared legend."""
    warmup = analysis.warmup_steps
    deciding = analysis.verdict.deciding_series
    gx, gy = samples_by_step(samples, "gpu_process_bytes")
    if deciding not in SECONDARY_SERIES and len(gx):
        twin = axis.twinx()
        gx, gy = envelope(gx - warmup, gy, MAX_LINE_POINTS)
        (line,) = twin.plot(gx, gy / MIB, color=NEUTRAL, linewidth=0.8, linestyle="-.")
        twin.set_ylabel("GPU process (MiB)", fontsize=8, color=NEUTRAL)
        twin.tick_params(labelsize=7)
        twin.spines["right"].set_visible(True)
        return [line], ["GPU process (right)"]
    column, label, scale, unit = SECONDARY_SERIES.get(deciding or "", SECONDARY_SERIES["tf_current"])
    if iterations is None:
        return [], []
    tx, ty = iteration_series(iterations, column, 0)
    if not len(tx):
        return [], []
    twin = axis.twinx()
    tx, ty = spread(tx - warmup, ty, MAX_MARK_POINTS)
    # Read every K steps in the child: markers, since a line would invent what happened between.
    decided = deciding in SECONDARY_SERIES
    # Faint unless it decided the verdict: context, not the story.
    marks = twin.scatter(tx, ty / scale, s=6 if decided else 4, marker="x", color=NEUTRAL if decided else "#aaaaaa",
                         linewidths=0.6)
    suffix = ", decided" if decided else ""
    twin.set_ylabel(f"{label} ({unit})", fontsize=8, color=NEUTRAL)
    twin.tick_params(labelsize=7)
    twin.spines["right"].set_visible(True)
    return [marks], [f"{label} (right{suffix})"]


def _rss_fit_marks(axis, estimate, levels, scale: float) -> tuple[list, list[str]]:
    """The detected warm-up, then the bounds (a bounded series) or the slope fit, on the RSS panel."""
    handles: list = []
    labels: list[str] = []
    if estimate.warmup_end_iteration > 0:
        handles.append(axis.axvspan(0, estimate.warmup_end_iteration, color=DETECTED_WARMUP_COLOR, alpha=0.5,
                                    linewidth=0))
        labels.append("detected warm-up")
    if levels is not None and levels.series == "rss" and levels.unit == "bytes":
        for level in (levels.low, levels.high):
            line = axis.axhline(level / scale, color=BOUNDS_COLOR, linewidth=0.8, linestyle=":")
        handles.append(line)
        labels.append("bounds")
    elif estimate.fit is not None:
        line_x = np.array([estimate.first_iteration, estimate.last_iteration], dtype=float)
        line_y = estimate.fit.intercept + estimate.fit.slope * line_x
        (line,) = axis.plot(line_x, line_y / scale, color=FIT_COLOR, linestyle="--", linewidth=1.0)
        handles.append(line)
        labels.append("slope fit")
    return handles, labels


def _clipped(values: np.ndarray, limits: tuple[float, float] | None) -> tuple[np.ndarray, str]:
    """Values beyond the panel's limits drawn on its edge, with the legend note that says so."""
    if limits is None or not len(values) or (values.min() >= limits[0] and values.max() <= limits[1]):
        return values, ""
    return np.clip(values, limits[0], limits[1]), " (clipped)"


def _uss_dots(axis, samples: pd.DataFrame, warmup: int, scale: float,
              limits: tuple[float, float] | None) -> tuple[list, list[str]]:
    """USS is read on a time budget (about once a second for a TensorFlow child): dots, not a line."""
    ux, uy = samples_by_step(samples, "uss_bytes")
    if not len(ux):
        return [], []
    ux, uy = spread(ux - warmup, uy, MAX_MARK_POINTS)
    uy, note = _clipped(uy, limits)
    return [axis.scatter(ux, uy / scale, s=3, color=NEUTRAL, linewidths=0, clip_on=False)], ["USS" + note]


def memory_panel(axis, analysis, samples: pd.DataFrame, color: str, iterations: pd.DataFrame | None = None,
                  levels=None) -> None:
    warmup = analysis.warmup_steps
    x, y = samples_by_step(samples, "rss_bytes")
    x = x - warmup
    cx, cy = child_rss_series(iterations, warmup)
    axis.set_title("memory", fontsize=9)
    axis.set_xlabel("measured iteration", fontsize=8)
    style_axis(axis)
    if len(x) == 0 and len(cx) == 0:
        axis.set_ylabel("RSS", fontsize=8)
        axis.text(0.5, 0.5, "no memory samples", ha="center", va="center", transform=axis.transAxes)
        return
    scale, unit = memory_scale(cy if len(cy) else y)
    axis.set_ylabel(f"RSS ({unit})", fontsize=8)
    handles, labels = [], []
    limits = None
    if len(cx):
        # The scale follows the end-of-step readings: the parent's samples catch dips and spikes inside a
        # step (700 MiB for a second on the tutorial pattern), and USS sits lower, both would flatten the
        # trend. What falls outside is drawn on the edge and the legend says so.
        limits = scale_limits(float(np.nanmin(cy)), float(np.nanmax(cy)))
        axis.set_ylim(limits[0] / scale, limits[1] / scale)
    if len(x):
        px, py = envelope(x, y, MAX_LINE_POINTS)
        py, note = _clipped(py, limits)
        # The parent's steady-clock samples see inside a step (peaks, dips); faint, behind the readings.
        (line,) = axis.plot(px, py / scale, color=color, linewidth=0.6, alpha=0.35 if len(cx) else 1.0)
        handles.append(line)
        labels.append("RSS, parent samples" + note)
    if len(cx):
        qx, qy = envelope(cx, cy, MAX_LINE_POINTS)
        (line,) = axis.plot(qx, qy / scale, color=color, linewidth=1.3)
        handles.append(line)
        labels.append("RSS, end of step")
    uss_handles, uss_labels = _uss_dots(axis, samples, warmup, scale, limits)
    handles += uss_handles
    labels += uss_labels
    lowest = min(x.min() if len(x) else 0.0, cx.min() if len(cx) else 0.0)
    if lowest < 0:
        handles.append(axis.axvspan(lowest, 0, color=WARMUP_COLOR, alpha=0.25, linewidth=0))
        labels.append("warm-up (--warmup)")
    estimate = analysis.estimates.get("rss")
    if estimate is not None:
        fit_handles, fit_labels = _rss_fit_marks(axis, estimate, levels, scale)
        handles += fit_handles
        labels += fit_labels
    more_handles, more_labels = _secondary_axis(axis, analysis, samples, iterations)
    legend_below(axis, handles + more_handles, labels + more_labels)
