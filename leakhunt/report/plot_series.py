"""Series made drawable: downsampling that keeps what a reader must see, and the memory axis' unit and limits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.analysis.leak import iteration_series, memory_series

MAX_LINE_POINTS = 700  # per line: more than a ~450-px-wide panel can show (min/max kept per bin)
MAX_MARK_POINTS = 300  # dots and markers (USS, the secondary series): each one is an SVG element
MIB = 2**20
GIB = 2**30
OVERLAY_MARGIN_FRACTION = 0.12  # head room above and below the smoothed line in the all-strategies panels
OVERLAY_MIN_MARGIN_BYTES = 1 * 2**20
# A flat series must look flat: the scale spans at least this much (8x RSS's 2 MiB growth floor), so
# page-sized noise is not blown up to fill the panel.
MIN_SPAN_BYTES = 16 * 2**20


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


def binned_band(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def spread(x: np.ndarray, y: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced subset (for dots, where extremes matter less than an even cover)."""
    if len(x) <= limit:
        return x, y
    index = np.linspace(0, len(x) - 1, limit).astype(int)
    return x[index], y[index]


def samples_by_step(samples: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(step, value) including the warm-up samples; callers subtract warmup_steps so it plots left of 0."""
    return memory_series(samples, column, 0)


def child_rss_series(iterations: pd.DataFrame | None, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The child's end-of-step RSS readings by step (warm-up left of 0); empty for old run folders."""
    if iterations is None:
        return np.empty(0), np.empty(0)
    x, y = iteration_series(iterations, "rss_bytes", 0)
    return x - warmup_steps, y


def memory_scale(values: np.ndarray) -> tuple[float, str]:
    finite = values[np.isfinite(values)] if len(values) else values
    if len(finite) and float(np.max(np.abs(finite))) >= 8 * GIB:
        return GIB, "GiB"
    return MIB, "MiB"


def scale_limits(low: float, high: float) -> tuple[float, float]:
    """Bottom and top of a memory axis around the levels [low, high]: head room, at least MIN_SPAN_BYTES."""
    margin = max((high - low) * OVERLAY_MARGIN_FRACTION, OVERLAY_MIN_MARGIN_BYTES)
    bottom, top = low - margin, high + margin
    if top - bottom < MIN_SPAN_BYTES:
        middle = (top + bottom) / 2
        bottom, top = middle - MIN_SPAN_BYTES / 2, middle + MIN_SPAN_BYTES / 2
    return bottom, top
