"""Robust line fits shared by the memory and latency analyses (Theil-Sen on median-binned points)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# Theil-Sen looks at every pair of points (n^2/2 slopes). Above this many points the series is first
# reduced to this many equal-count groups (median x, median y per group): medians of consecutive blocks
# keep the trend, shed most of the noise, and keep 100k samples well under a second.
SLOPE_MAX_POINTS = 600
# Fewer points than this give no usable interval.
SLOPE_MIN_POINTS = 4
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True)
class SlopeFit:
    """y ~ intercept + slope * x with a 95% interval on the slope."""

    slope: float
    ci_low: float
    ci_high: float
    intercept: float
    points_used: int


def median_bin(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Reduce sorted (x, y) to `bins` equal-count groups, each replaced by its median x and median y."""
    n = len(x)
    if n <= bins:
        return x.astype(float), y.astype(float)
    edges = np.linspace(0, n, bins + 1).astype(int)
    counts = np.diff(edges)
    width = int(counts.max())
    padded_x = np.full((bins, width), np.nan)
    padded_y = np.full((bins, width), np.nan)
    column = np.arange(n) - np.repeat(edges[:-1], counts)
    row = np.repeat(np.arange(bins), counts)
    padded_x[row, column] = x
    padded_y[row, column] = y
    return np.nanmedian(padded_x, axis=1), np.nanmedian(padded_y, axis=1)


def clean_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Finite pairs only, sorted by x (stable, so ties keep their recorded order)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def theil_sen(x: np.ndarray, y: np.ndarray, max_points: int = SLOPE_MAX_POINTS) -> SlopeFit | None:
    """Theil-Sen slope with a 95% interval; None when x has too few distinct values to fit a line."""
    if len(x) < SLOPE_MIN_POINTS or np.unique(x).size < 2:
        return None
    if len(x) > max_points:
        x, y = median_bin(x, y, max_points)
    with np.errstate(invalid="ignore"):
        # Tied data (a perfectly flat series) makes scipy's interval variance negative; the NaN it yields
        # is handled below, the warning would only reach the user's terminal.
        slope, intercept, low, high = stats.theilslopes(y, x, alpha=CONFIDENCE_LEVEL)
    if not np.isfinite(slope):
        return None
    low = slope if not np.isfinite(low) else low
    high = slope if not np.isfinite(high) else high
    return SlopeFit(float(slope), float(min(low, slope)), float(max(high, slope)), float(intercept), len(x))


def robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation (ignores outliers)."""
    if len(values) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))
