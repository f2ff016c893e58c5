"""Plots for report.html: matplotlib figures (no pyplot, no global state) as inline SVG elements.

SVG stays sharp when zoomed and text stays text. Series are downsampled before drawing (keeping each bin's
lowest and highest point, so dips and peaks survive) so 8 strategies x 100k points stay a few MiB at most.
Numbers drawn (fits, warm-up ends, bounds) come from the analysis; words come from report.formatting.
Each strategy has one color (report.views.STRATEGY_COLORS) in every chart; legends sit below the data.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from markupsafe import escape
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from leakhunt.analysis.leak import (
    PARENT_KIND,
    iteration_series,
    memory_series,
    transient_width_points,
    without_transients,
)
from leakhunt.analysis.settle import SETTLE_SERIES
from leakhunt.report.formatting import memory_text
from leakhunt.report.views import strategy_color

MAX_LINE_POINTS = 700  # per line: more than a ~450-px-wide panel can show (min/max kept per bin)
MAX_MARK_POINTS = 300  # dots and markers (USS, the secondary series): each one is an SVG element
OVERLAY_LINE_POINTS = 500
MAX_TITLE_CHARS = 60
LATENCY_BAND_BINS = 120
HISTOGRAM_BINS = 40
HISTOGRAM_CLIP_PERCENTILE = 99.5  # a few huge outliers (first trace, GC pauses) would squash the rest
ROLLING_MEDIAN_FRACTION = 0.02  # rolling window: 2% of the run, at least ROLLING_MEDIAN_MIN
ROLLING_MEDIAN_MIN = 5
OVERLAY_MARGIN_FRACTION = 0.12  # head room above and below the smoothed line in the all-strategies panels
OVERLAY_MIN_MARGIN_BYTES = 1 * 2**20
# A flat series must look flat: the scale spans at least this much (8x RSS's 2 MiB growth floor), so
# page-sized noise is not blown up to fill the panel.
MIN_SPAN_BYTES = 16 * 2**20
MIB = 2**20
GIB = 2**30
NEUTRAL = "#555555"  # series that are not the strategy itself (USS, secondary axis, reference)
FIT_COLOR = "#000000"
WARMUP_COLOR = "#999999"
DETECTED_WARMUP_COLOR = "#e8d9a8"
BOUNDS_COLOR = "#333333"
SVG_DECIMALS = 2
SVG_RC = {
    "svg.fonttype": "none",  # text as <text>: small, sharp, selectable; matplotlib escapes it
    "svg.hashsalt": "leakhunt",  # ids from a fixed salt: the same run folder gives the same report
    "font.family": "sans-serif",
    "font.sans-serif": ["Helvetica", "Arial", "Liberation Sans", "DejaVu Sans"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
}
# What an inline SVG from matplotlib must never contain (it is marked safe in the HTML). Read inside tags
# only: text nodes are escaped by matplotlib (no "<" in them), so a strategy named "javascript: x" is text.
_UNSAFE_SVG = re.compile(r"<\s*(script|foreignObject|iframe|object|embed)\b|<[^>]*\son\w+\s*="
                         r"|<[^>]*javascript:|<[^>]*\s(?:href|src)\s*=\s*\"(?!#)", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_NUMBER = re.compile(r"-?\d+\.\d{%d,}" % (SVG_DECIMALS + 1))
_GEOMETRY_ATTRIBUTE = re.compile(r'\s(d|x|y|x1|x2|y1|y2|width|height|transform|points|cx|cy|r)="([^"]*)"')


def plot_text(text: Any) -> str:
    """Matplotlib reads $...$ as math; user strings must show as typed."""
    return str(text).replace("\\", "\\\\").replace("$", r"\$")


# -- SVG output -------------------------------------------------------------------------------------------

def _round_geometry(match: re.Match) -> str:
    value = _NUMBER.sub(lambda number: f"{float(number.group()):.{SVG_DECIMALS}f}".rstrip("0").rstrip("."),
                        match.group(2))
    return f' {match.group(1)}="{" ".join(value.split())}"'


def _tag_for_html(tag: str, figure_id: str) -> str:
    """One tag: SVG 2 href, ids and references prefixed with the figure's id, geometry rounded."""
    tag = tag.replace(" xlink:href=", " href=").replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    tag = re.sub(r'\sid="([^"]+)"', lambda m: f' id="{figure_id}-{m.group(1)}"', tag)
    tag = re.sub(r'\shref="#([^"]+)"', lambda m: f' href="#{figure_id}-{m.group(1)}"', tag)
    tag = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{figure_id}-{m.group(1)})", tag)
    return _GEOMETRY_ATTRIBUTE.sub(_round_geometry, tag)


def to_inline_svg(figure: Figure, figure_id: str, label: str) -> str:
    """The figure as one <svg> element for an HTML page: ids made unique per figure (several SVGs share a
    document), no XML prolog or metadata, geometry rounded to 0.01 pt, sized by CSS (class "plot").

    Raises ValueError if the SVG holds anything active (a script, an event handler, an external link):
    it is inserted unescaped, so this is checked rather than assumed.
    """
    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                         "Type": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    # Its one style rule ("*" {stroke-linejoin...}) would reach the whole page: the template scopes it.
    svg = re.sub(r'<defs>\s*<style type="text/css">[^<]*</style>\s*</defs>\s*', "", svg, count=1)
    svg = _TAG.sub(lambda match: _tag_for_html(match.group(), figure_id), svg)
    if _UNSAFE_SVG.search(svg):
        raise ValueError("refusing to inline an SVG with active content")
    head_end = svg.index(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", svg[:head_end])
    # The label is escaped for an attribute value (quotes included): it describes, it is never a link.
    return (f'{head} class="plot" role="img" aria-label="{escape(label)}"' + svg[head_end:]).strip()


# -- data helpers -----------------------------------------------------------------------------------------

def envelope(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `limit` points: in each of limit/2 bins the lowest and the highest, in x order."""
    n = len(x)
    if n <= limit:
        return x, y
    bins = max(limit // 2, 1)
    edges = np.linspace(0, n, bins + 1).astype(int)
    counts = np.diff(edges)
    width = int(counts.max())
    # One row per bin, padded with NaN: the lowest and highest of every bin in two vectorised calls.
    padded = np.full((bins, width), np.nan)
    row = np.repeat(np.arange(bins), counts)
    column = np.arange(n) - np.repeat(edges[:-1], counts)
    values = np.where(np.isfinite(y), y, np.nan).astype(float)
    padded[row, column] = values
    filled = ~np.all(np.isnan(padded), axis=1)
    safe_low = np.where(np.isnan(padded), np.inf, padded)
    safe_high = np.where(np.isnan(padded), -np.inf, padded)
    low = edges[:-1] + np.argmin(safe_low, axis=1)
    high = edges[:-1] + np.argmax(safe_high, axis=1)
    index = np.unique(np.concatenate([low[filled], high[filled]]))
    return x[index], y[index]


def _binned_band(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-count bin: median x, 5th and 95th percentile of y."""
    n = len(y)
    edges = np.linspace(0, n, bins + 1).astype(int)
    counts = np.diff(edges)
    padded_x = np.full((bins, int(counts.max())), np.nan)
    padded_y = np.full_like(padded_x, np.nan)
    row = np.repeat(np.arange(bins), counts)
    column = np.arange(n) - np.repeat(edges[:-1], counts)
    padded_x[row, column] = x
    padded_y[row, column] = y
    low, high = np.nanpercentile(padded_y, [5, 95], axis=1)
    return np.nanmedian(padded_x, axis=1), low, high


def _spread(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced subset (for dots, where extremes matter less than an even cover)."""
    if len(x) <= limit:
        return x, y
    index = np.linspace(0, len(x) - 1, limit).astype(int)
    return x[index], y[index]


def _by_step(samples: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(step, value) including the warm-up samples; callers subtract warmup_steps so it plots left of 0."""
    return memory_series(samples, column, 0)


def child_rss_series(iterations: pd.DataFrame | None, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The child's end-of-step RSS readings by step (warm-up left of 0); empty for old run folders."""
    if iterations is None:
        return np.empty(0), np.empty(0)
    x, y = iteration_series(iterations, "rss_bytes", 0)
    return x - warmup_steps, y


def _memory_scale(values: np.ndarray) -> tuple[float, str]:
    finite = values[np.isfinite(values)] if len(values) else values
    if len(finite) and float(np.max(np.abs(finite))) >= 8 * GIB:
        return GIB, "GiB"
    return MIB, "MiB"


def _scale_limits(low: float, high: float) -> tuple[float, float]:
    """Bottom and top of a memory axis around the levels [low, high]: head room, at least MIN_SPAN_BYTES."""
    margin = max((high - low) * OVERLAY_MARGIN_FRACTION, OVERLAY_MIN_MARGIN_BYTES)
    bottom, top = low - margin, high + margin
    if top - bottom < MIN_SPAN_BYTES:
        middle = (top + bottom) / 2
        bottom, top = middle - MIN_SPAN_BYTES / 2, middle + MIN_SPAN_BYTES / 2
    return bottom, top


def _legend_below(axis, handles, labels, columns: int = 3) -> None:
    if handles:
        # Below the axes, from its left edge: never over the data, never off the figure's left side.
        axis.legend(handles, labels, loc="upper left", bbox_to_anchor=(-0.02, -0.2), ncol=columns, fontsize=7,
                    frameon=False, handlelength=1.6, columnspacing=1.0)


def _style(axis) -> None:
    axis.tick_params(labelsize=7)
    axis.grid(True, color="#eeeeee", linewidth=0.6)
    axis.set_axisbelow(True)


# -- one strategy -----------------------------------------------------------------------------------------

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
    gx, gy = _by_step(samples, "gpu_process_bytes")
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
    tx, ty = _spread(tx - warmup, ty, MAX_MARK_POINTS)
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


def _memory_panel(axis, analysis, samples: pd.DataFrame, color: str, iterations: pd.DataFrame | None = None,
                  levels=None) -> None:
    warmup = analysis.warmup_steps
    x, y = _by_step(samples, "rss_bytes")
    x = x - warmup
    cx, cy = child_rss_series(iterations, warmup)
    axis.set_title("memory", fontsize=9)
    axis.set_xlabel("measured iteration", fontsize=8)
    _style(axis)
    if len(x) == 0 and len(cx) == 0:
        axis.set_ylabel("RSS", fontsize=8)
        axis.text(0.5, 0.5, "no memory samples", ha="center", va="center", transform=axis.transAxes)
        return
    scale, unit = _memory_scale(cy if len(cy) else y)
    axis.set_ylabel(f"RSS ({unit})", fontsize=8)
    handles, labels = [], []
    ux, uy = _by_step(samples, "uss_bytes")
    ux = ux - warmup
    bottom = top = None
    if len(cx):
        # The scale follows the end-of-step readings: the parent's samples catch dips and spikes inside a
        # step (700 MiB for a second on the tutorial pattern), and USS sits lower, both would flatten the
        # trend. What falls outside is drawn on the edge and the legend says so.
        bottom, top = _scale_limits(float(np.nanmin(cy)), float(np.nanmax(cy)))
        axis.set_ylim(bottom / scale, top / scale)

    def clipped(values: np.ndarray) -> tuple[np.ndarray, str]:
        if bottom is None or not len(values) or (values.min() >= bottom and values.max() <= top):
            return values, ""
        return np.clip(values, bottom, top), " (clipped)"

    if len(x):
        px, py = envelope(x, y, MAX_LINE_POINTS)
        py, note = clipped(py)
        # The parent's steady-clock samples see inside a step (peaks, dips); faint, behind the readings.
        (line,) = axis.plot(px, py / scale, color=color, linewidth=0.6, alpha=0.35 if len(cx) else 1.0)
        handles.append(line)
        labels.append("RSS, parent samples" + note)
    if len(cx):
        qx, qy = envelope(cx, cy, MAX_LINE_POINTS)
        (line,) = axis.plot(qx, qy / scale, color=color, linewidth=1.3)
        handles.append(line)
        labels.append("RSS, end of step")
    if len(ux):
        # USS is read on a time budget (about once a second for a TensorFlow child): dots, not a line.
        ux, uy = _spread(ux, uy, MAX_MARK_POINTS)
        uy, note = clipped(uy)
        handles.append(axis.scatter(ux, uy / scale, s=3, color=NEUTRAL, linewidths=0, clip_on=False))
        labels.append("USS" + note)
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
    _legend_below(axis, handles + more_handles, labels + more_labels)


def _latency_panels(axis_series, axis_hist, analysis, color: str) -> None:
    x, y = analysis.latency_iteration, analysis.latency_ms
    axis_series.set_title("latency", fontsize=9)
    axis_series.set_xlabel("measured iteration", fontsize=8)
    axis_series.set_ylabel("ms", fontsize=8)
    axis_hist.set_title("latency histogram", fontsize=9)
    axis_hist.set_xlabel("ms", fontsize=8)
    for axis in (axis_series, axis_hist):
        _style(axis)
    if len(y) == 0:
        for axis in (axis_series, axis_hist):
            axis.text(0.5, 0.5, "no measured iterations", ha="center", va="center", transform=axis.transAxes)
        return
    handles, labels = [], []
    if len(y) > 2 * LATENCY_BAND_BINS:
        # A band of the middle 90% per bin instead of every point: the same picture in a fraction of the SVG.
        bx, low, high = _binned_band(x, y, LATENCY_BAND_BINS)
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
    _legend_below(axis_series, handles, labels)
    axis_hist.hist(np.clip(y, None, upper), bins=HISTOGRAM_BINS, color=color, alpha=0.85)
    axis_hist.set_ylabel("iterations", fontsize=8)


def strategy_figure(analysis, samples: pd.DataFrame, label: str, iterations: pd.DataFrame | None = None,
                    color: str | None = None, levels=None, figure_id: str = "s0") -> str:
    with matplotlib.rc_context(SVG_RC):  # fonts and spines are read when the axes and texts are made
        return _strategy_figure(analysis, samples, label, iterations, color, levels, figure_id)


def _strategy_figure(analysis, samples, label, iterations, color, levels, figure_id) -> str:
    color = color or strategy_color(analysis.index)
    figure = Figure(figsize=(12, 3.5))
    axes = figure.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.3, 0.8]})
    _memory_panel(axes[0], analysis, samples, color, iterations, levels)
    _latency_panels(axes[1], axes[2], analysis, color)
    # Fixed margins (tight_layout draws the figure twice just to measure it); room below for the legends.
    figure.subplots_adjust(left=0.055, right=0.975, bottom=0.33, top=0.92, wspace=0.38)
    return to_inline_svg(figure, figure_id, f"memory and latency of {label}")


# -- all strategies ---------------------------------------------------------------------------------------

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
                   entries: list[dict[str, Any]] | None = None, levels_list: list | None = None) -> str | None:
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
        scale, unit = _memory_scale(level)
        bottom, top = _scale_limits(float(np.min(level)), float(np.max(level)))
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
        entry = entries[k] if k < len(entries) else {}
        verdict = str(entry.get("verdict") or analysis.verdict.verdict)
        # Name on top, what the verdict rests on below it: two lines, so long names never run into it.
        axis.set_title(plot_text(_short(labels[k])), fontsize=9, color=color, fontweight="bold", loc="left",
                       pad=15)
        axis.text(0, 1.03, plot_text(f"{verdict}: {memory_text(entry, levels_list[k])}" if entry else verdict),
                  transform=axis.transAxes, fontsize=7.5, color="#444444", ha="left", va="bottom")
        axis.set_ylabel(f"RSS ({unit})", fontsize=8)
        _style(axis)
    for axis in axes[max(len(drawn) - columns, 0):len(drawn)]:
        axis.set_xlabel("measured iteration", fontsize=8)
    height = 0.4 + 2.5 * rows
    figure.subplots_adjust(left=0.06, right=0.985, bottom=0.55 / height, top=1 - 0.45 / height, wspace=0.22,
                           hspace=0.75)
    return to_inline_svg(figure, "all", "RSS of every strategy against the measured iteration, each on its own scale")


def render_run_plots(analyses, strategies, summary: dict[str, Any], levels: list | None = None) -> dict[str, Any]:
    """{"overlay": svg|None, "strategies": [svg per strategy]}; labels come from the (maybe redacted) summary."""
    entries = list(summary.get("strategies", []))
    labels = [str(entry.get("name")) for entry in entries]
    levels = list(levels or [None] * len(entries))
    from leakhunt.analysis.summarize import judged_samples

    samples_list = [judged_samples(strategy) for strategy in strategies]
    return {
        "overlay": overlay_figure(analyses, samples_list, labels, [s.iterations for s in strategies], entries, levels),
        "strategies": [strategy_figure(a, s, label, strategy.iterations, strategy_color(a.index), level, f"s{a.index}")
                       for a, s, label, strategy, level in zip(analyses, samples_list, labels, strategies, levels,
                                                               strict=False)],
    }
