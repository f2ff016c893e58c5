"""Robust line fits shared by the memory and latency analyses (Theil-Sen on median-binned points).

The slope is the median of all pairwise slopes. Its 95% interval inverts Kendall's S (Sen 1968), with
the variance of S inflated for serial correlation in the style of Hamed & Rao (1998): memory readings
taken every K iterations wander, so neighbouring points carry less independent information than the
plain Sen interval assumes, and that interval would be far too narrow.

That rank interval is blind to magnitudes: with only a few effective points no ordering of them is
significant, so it spans (almost) every pairwise slope, however small the residuals are next to the
growth (a heap that grows 544 B per reading with a few rare level jumps got [-424, +1088] around a
slope of 277). A second interval reads the residuals' values: slope +- t * SE, the slope's variance
being the residuals' long-run variance over sum((x - mean x)^2), that long-run variance their variance
times a serial-correlation factor (the same estimator on values, or the ranks' one if larger; Santer
et al. 2000). Where the ranks resolve the slope the two agree to within 1.25x and the rank interval is
kept; where it is several times wider the ranks have run out of resolution and the value interval is
used instead.

The serial-correlation factors live in serial_correlation.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from leakhunt.analysis.serial_correlation import (
    autocorrelation,
    long_run_variance_factor,
    rank_autocorrelation,
    serial_variance_inflation,
)

# Names other modules import from here (the serial-correlation estimators lived here before).
__all__ = ["CONFIDENCE_LEVEL", "SlopeFit", "autocorrelation", "clean_xy", "kendall_s_variance",
           "long_run_variance_factor", "median_bin", "rank_autocorrelation", "robust_sigma",
           "serial_variance_inflation", "theil_sen", "value_interval"]

# Theil-Sen looks at every pair of points (n^2/2 slopes). Above this many points the series is first
# reduced to this many equal-count groups (median x, median y per group): medians of consecutive blocks
# keep the trend, shed most of the noise, and keep 100k samples well under a second.
SLOPE_MAX_POINTS = 600
# Fewer points than this give no usable interval.
SLOPE_MIN_POINTS = 4
CONFIDENCE_LEVEL = 0.95
# Two-sided normal quantile for CONFIDENCE_LEVEL (1.96 for 95%).
_Z_TWO_SIDED = float(special.ndtri(0.5 + CONFIDENCE_LEVEL / 2))
# Parameters fitted before the residuals are looked at (intercept and slope): the degrees of freedom of
# the Student-t quantile used once the variance had to be estimated are effective points minus this.
FITTED_PARAMETERS = 2
# Smallest degrees of freedom for that quantile (1: Cauchy-wide, for a series that is nearly all drift).
MIN_DEGREES_OF_FREEDOM = 1.0
# The value interval replaces the rank interval when the rank one is more than this many times as wide.
# On series whose ranks resolve the slope (AR(1) noise with phi <= 0.5, page-floored readings, 600 points
# with phi = 0.9) the ratio never exceeded 1.25 (median 1.01-1.05); it climbs to 5-100 when the rank
# half-width nears the number of pairwise slopes (a few effective points: AR(1) with phi = 0.9 on 100
# points, random walks, level jumps). Coverage was flat for thresholds 3-5; at 2 it fell by 2-4 points on
# level jumps, at 8 clipped rank intervals were kept in up to a third of those series.
RANK_TO_VALUE_MAX_WIDTH_RATIO = 4.0


@dataclass(frozen=True)
class SlopeFit:
    """y ~ intercept + slope * x with a 95% interval on the slope.

    variance_inflation is the factor by which serial correlation inflated the variance behind the
    interval (1.0: points treated as independent): that of Kendall's S for the rank interval, that of the
    slope for the value interval (see theil_sen); effective_points is points_used / variance_inflation.
    """

    slope: float
    ci_low: float
    ci_high: float
    intercept: float
    points_used: int
    variance_inflation: float = 1.0
    effective_points: float | None = None


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


def _tie_group_sizes(values: np.ndarray) -> np.ndarray:
    """Sizes of the groups of equal values that have more than one member."""
    _, counts = np.unique(values, return_counts=True)
    return counts[counts > 1].astype(float)


def kendall_s_variance(x: np.ndarray, y: np.ndarray) -> float:
    """Variance of Kendall's S under independence, corrected for ties in x and in y (Kendall 1970).

    With no ties in x (the usual case: distinct iteration numbers) this is exactly Sen's (1968) eq. 2.6,
    the variance scipy's theilslopes uses; the two cross terms only matter when x and y both have ties.
    Never negative (an all-tied y gives 0: S is then identically 0).
    """
    n = float(len(x))
    x_ties = _tie_group_sizes(x)
    y_ties = _tie_group_sizes(y)
    base = (n * (n - 1) * (2 * n + 5)
            - np.sum(x_ties * (x_ties - 1) * (2 * x_ties + 5))
            - np.sum(y_ties * (y_ties - 1) * (2 * y_ties + 5))) / 18
    cross = 0.0
    if n > 2 and x_ties.size and y_ties.size:
        cross = (np.sum(x_ties * (x_ties - 1) * (x_ties - 2)) * np.sum(y_ties * (y_ties - 1) * (y_ties - 2))
                 / (9 * n * (n - 1) * (n - 2))
                 + np.sum(x_ties * (x_ties - 1)) * np.sum(y_ties * (y_ties - 1)) / (2 * n * (n - 1)))
    return float(max(base + cross, 0.0))














def _student_quantile(freedom: float, confidence: float) -> float:
    return float(special.stdtrit(max(freedom, MIN_DEGREES_OF_FREEDOM), 0.5 + confidence / 2))


def value_interval(x: np.ndarray, residuals: np.ndarray, slope: float, factor: float, confidence: float
                   ) -> tuple[float, float]:
    """slope +- t * SE from the residuals' values, their variance scaled by a long-run variance factor.

    var(slope) = LRV / sum((x - mean x)^2) with LRV = s^2 * factor (s^2 the residual variance on n - 2
    degrees of freedom), t on the effective points n / factor less the two fitted parameters, as for
    the rank interval (Santer et al. 2000). Unlike the rank interval it scales with the residuals: a
    series that rises by 100 KB with residuals of 1 KB gets a narrow interval, however persistent they are.
    """
    n = len(x)
    centred_x = x - x.mean()
    spread = float(np.dot(centred_x, centred_x))
    centred = residuals - residuals.mean()
    variance = float(np.dot(centred, centred)) / (n - FITTED_PARAMETERS)
    quantile = _student_quantile(n / factor - FITTED_PARAMETERS, confidence)
    half_width = quantile * np.sqrt(variance * factor / spread)
    return slope - half_width, slope + half_width


@functools.lru_cache(maxsize=4)
def _pair_indices(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, second) index of every pair of `count` points, read-only. Cached: most fits are of exactly
    SLOPE_MAX_POINTS binned points, and building their 180k pairs was a sixth of a fit's time."""
    first, second = np.triu_indices(count, k=1)
    first.flags.writeable = second.flags.writeable = False
    return first, second


def _pairwise_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dy/dx of every pair of points with different x."""
    first, second = _pair_indices(len(x))
    dx = x[second] - x[first]
    dy = y[second] - y[first]
    distinct = dx != 0
    return dy[distinct] / dx[distinct]


def theil_sen(x: np.ndarray, y: np.ndarray, max_points: int = SLOPE_MAX_POINTS,
              confidence: float = CONFIDENCE_LEVEL) -> SlopeFit | None:
    """Theil-Sen slope with a `confidence` interval (95% by default); None when x has too few distinct
    values to fit a line. A stricter level serves interim looks of a sequential design (analysis/settle.py)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < SLOPE_MIN_POINTS or np.unique(x).size < 2:
        return None
    if len(x) > max_points:
        x, y = median_bin(x, y, max_points)
    # Serial correlation is about neighbours in time: put the points in x order (stable, so readings
    # at the same iteration keep their recorded order).
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    with np.errstate(invalid="ignore"):
        # An infinite reading makes NaN slopes (inf - inf); the fit is then dropped, silently, as before.
        slopes = _pairwise_slopes(x, y)
        slope = float(np.median(slopes)) if slopes.size else float("nan")
    if not np.isfinite(slope):
        return None
    intercept = float(np.median(y) - slope * np.median(x))

    # The rank interval: Sen's order statistics of the pairwise slopes, the half-width in ranks being
    # z * sqrt(var(S)), with var(S) inflated for serial correlation of the detrended series.
    residuals = y - slope * x
    inflation = serial_variance_inflation(residuals)
    effective_points = len(x) / inflation
    quantile = _Z_TWO_SIDED if confidence == CONFIDENCE_LEVEL else float(special.ndtri(0.5 + confidence / 2))
    if inflation > 1.0:
        # var(S) of independent points is known exactly, so the normal quantile is right for them; an
        # inflation estimated from the data is itself uncertain, most so with few effective points,
        # hence Student's t on the effective points (as in Santer et al. 2000 for serially correlated
        # trends).
        quantile = _student_quantile(effective_points - FITTED_PARAMETERS, confidence)
    half_width_ranks = quantile * np.sqrt(kendall_s_variance(x, y) * inflation)
    count = slopes.size
    low_index = int(np.clip(np.round((count - half_width_ranks) / 2) - 1, 0, count - 1))
    high_index = int(np.clip(np.round((count + half_width_ranks) / 2), 0, count - 1))
    low, high = (float(v) for v in np.partition(slopes, (low_index, high_index))[[low_index, high_index]])

    # The value interval, used when the rank one is several times wider: the ranks have then run out
    # of resolution (few effective points) and the residuals' size is what tells how sure the slope is.
    # Its long-run variance factor is the larger of the values' and the ranks' (one outlier adds white
    # variance that hides the values' autocorrelation, never the ranks'). An infinite reading, or one too
    # large for its square to be finite, has no usable size: the rank interval then stands.
    with np.errstate(over="ignore", invalid="ignore"):
        factor = max(long_run_variance_factor(residuals), inflation)
        value_low, value_high = value_interval(x, residuals, slope, factor, confidence)
        value_width = value_high - value_low
    if np.isfinite(value_width) and high - low > RANK_TO_VALUE_MAX_WIDTH_RATIO * value_width:
        low, high, inflation = value_low, value_high, factor
        effective_points = len(x) / inflation
    # An exact line or a flat series has no spread of slopes: the interval collapses onto the slope.
    return SlopeFit(slope, float(min(low, slope)), float(max(high, slope)), intercept, len(x),
                    variance_inflation=float(inflation), effective_points=float(effective_points))


def robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimated from the median absolute deviation (ignores outliers)."""
    if len(values) == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))
