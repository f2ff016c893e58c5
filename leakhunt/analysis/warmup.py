"""Where a series' early climb to its steady trend ended (the detected warm-up)."""

from __future__ import annotations

import numpy as np

from leakhunt.analysis.robust import median_bin, robust_sigma, theil_sen
from leakhunt.analysis.series_kind import PARENT_KIND, SeriesKind

# Warm-up: the early climb must end within this fraction of the measured iterations; growth that lasts
# longer is judged (as a plateau or a leak), not hidden as warm-up.
WARMUP_MAX_FRACTION = 0.25
# A bin counts as "at steady state" once it is within this share of the series' growth floor (256 KiB for
# RSS), or 3 robust sigmas, of the late trend.
WARMUP_LEVEL_TOLERANCE_FRACTION = 1 / 8
WARMUP_BINS = 40
WARMUP_MIN_SAMPLES = 20


def _bin_left_edges(x: np.ndarray, bins: int) -> np.ndarray:
    edges = np.linspace(0, len(x), bins + 1).astype(int)[:-1]
    return x[edges]


def detect_warmup_end(x: np.ndarray, y: np.ndarray, kind: SeriesKind | None = None) -> float:
    """The measured iteration where memory reached its steady trend (x[0] when there is no early climb).

    The trend is a robust line through the second half; the warm-up is the leading run of bins that sit
    clearly below that line extended backwards. It only counts when it ends in the first quarter.
    """
    n = len(x)
    if n < WARMUP_MIN_SAMPLES or x[-1] <= x[0]:
        return float(x[0]) if n else 0.0
    bins = int(min(WARMUP_BINS, n // 5))
    bin_x, bin_y = median_bin(x, y, bins)
    late = bin_x >= x[0] + (x[-1] - x[0]) / 2
    fit = theil_sen(bin_x[late], bin_y[late])
    if fit is None:
        return float(x[0])
    trend = fit.intercept + fit.slope * bin_x
    min_growth = (kind or PARENT_KIND).min_growth
    tolerance = max(WARMUP_LEVEL_TOLERANCE_FRACTION * min_growth, 3 * robust_sigma(bin_y[late] - trend[late]))
    below = bin_y < trend - tolerance
    if not below[0]:
        return float(x[0])
    reached = np.flatnonzero(~below)
    if reached.size == 0:
        return float(x[0])
    end_x = float(_bin_left_edges(x, bins)[reached[0]])
    if end_x - x[0] > WARMUP_MAX_FRACTION * (x[-1] - x[0]):
        return float(x[0])
    return end_x
