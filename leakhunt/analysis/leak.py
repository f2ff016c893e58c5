"""Memory growth of one series (RSS, C heap, Python blocks, USS, GPU, TF allocator) against the iteration.

`estimate_growth` turns raw (iteration, value) points into the numbers a verdict needs: where the climb to
a steady state ended, a robust slope with a 95% interval over the rest, early and recent rates, how much
memory is released along the way (sawtooth) and how much of the growth came in one jump (step).
Each series has its own noise floor (`SeriesKind`): RSS moves in pages and allocator chunks, the C heap
in bytes, Python's allocator in blocks.

The pieces live in series_kind.py (units and noise floors), series.py (series from the run folder's tables),
warmup.py (the detected warm-up) and shape.py (transients, steps, releases); names other modules import
from here are re-exported.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.post_collection import PostCollectionPoints, Survival, survival
from leakhunt.analysis.robust import CONFIDENCE_LEVEL, SlopeFit, clean_xy, robust_sigma, theil_sen
from leakhunt.analysis.series import iteration_series, memory_series
from leakhunt.analysis.series_kind import (
    GROWTH_FLOOR_BYTES,
    HEAP_KIND,
    PAGE_BYTES,
    PARENT_KIND,
    PY_BLOCKS_KIND,
    RSS_KIND,
    SLOPE_FLOOR_MIN_BYTES_PER_ITER,
    TF_ALLOCATOR_KIND,
    SeriesKind,
    noise_floor_bytes_per_iter,
)
from leakhunt.analysis.shape import (
    Envelope,
    SeriesShape,
    count_releases,
    measure_shape,
    transient_width_points,
    without_transients,
)
from leakhunt.analysis.warmup import detect_warmup_end

__all__ = ["GROWTH_FLOOR_BYTES", "HEAP_KIND", "PAGE_BYTES", "PARENT_KIND", "PY_BLOCKS_KIND", "RSS_KIND",
           "SLOPE_FLOOR_MIN_BYTES_PER_ITER", "TF_ALLOCATOR_KIND", "GrowthEstimate", "SeriesKind", "count_releases",
           "detect_warmup_end", "estimate_growth", "iteration_series", "memory_series", "noise_floor_bytes_per_iter",
           "transient_width_points", "without_transients"]

# Early and recent rates come from the first and last third of the judged iterations.
SEGMENT_FRACTION = 1.0 / 3.0
# The observed growth compares the median level of the first and last 5% of judged samples.
EDGE_FRACTION = 0.05
EDGE_MIN_SAMPLES = 3


@dataclass(frozen=True)
class GrowthEstimate:
    """Everything measured about one memory series after the warm-up."""

    series: str
    samples_total: int
    samples_judged: int
    first_iteration: int
    last_iteration: int
    warmup_end_iteration: int
    fit: SlopeFit | None
    early_fit: SlopeFit | None
    recent_fit: SlopeFit | None
    growth_bytes: float
    start_level_bytes: float
    end_level_bytes: float
    peak_bytes: float
    noise_sigma_bytes: float
    noise_floor_bytes_per_iter: float
    step_fraction: float  # share of the net rise that came in the largest jump (two adjacent bins)
    release_bytes: float  # deepest drop below an earlier level (smoothed)
    rise_bytes: float  # max - min of the smoothed level
    trough_rise_bytes: float  # lowest level of the last quarter minus that of the first quarter
    peak_rise_bytes: float  # highest level of the last quarter minus that of the first quarter
    net_rise_bytes: float  # last minus first of the 20 binned levels
    smooth_sigma_bytes: float  # noise left in the smoothed level (from its bin-to-bin changes)
    smoothed_levels_bytes: tuple[float, ...] = ()  # the <= 100 median-binned levels the shape was read from
    unit: str = "bytes"  # of every *_bytes field: "blocks" for the Python block count
    growth_floor: float = GROWTH_FLOOR_BYTES  # growth over the window below the noise floor (in `unit`)
    # The series kind's fixed part of that floor (allocator granularity), without its own scatter: a sawtooth's
    # scatter is the sawtooth itself, so releases are measured against this part only.
    granularity: float = GROWTH_FLOOR_BYTES
    step_iteration: int | None = None  # where the largest jump happened
    before_step_fit: SlopeFit | None = None  # the series before the jump...
    after_step_fit: SlopeFit | None = None  # ...and after it: a step has both flat
    # Whether the growth survived the child's forced full collections (None: no post-collection points given).
    survival: Survival | None = None
    envelope: Envelope | None = None  # each eighth's lowest and highest reading (child readings only)

    @property
    def judged_span_iterations(self) -> int:
        return max(self.last_iteration - self.first_iteration, 0)


def _edge_level(y: np.ndarray, last: bool) -> float:
    count = max(EDGE_MIN_SAMPLES, int(len(y) * EDGE_FRACTION))
    part = y[-count:] if last else y[:count]
    return float(np.median(part))


def _segment_fit(x: np.ndarray, y: np.ndarray, low: float, high: float,
                 confidence: float = CONFIDENCE_LEVEL) -> SlopeFit | None:
    keep = (x >= low) & (x <= high)
    return theil_sen(x[keep], y[keep], confidence=confidence)


def _segment_fits(x: np.ndarray, y: np.ndarray, confidence: float) -> tuple[SlopeFit | None, SlopeFit | None]:
    """Slope fits of the first and the last third of the judged iterations (None for a single iteration)."""
    first, last = float(x[0]), float(x[-1])
    span = last - first
    if span <= 0:
        return None, None
    segment = span * SEGMENT_FRACTION
    return (_segment_fit(x, y, first, first + segment, confidence),
            _segment_fit(x, y, last - segment, last, confidence))


def _step_fits(x: np.ndarray, y: np.ndarray, shape: SeriesShape,
               confidence: float) -> tuple[int | None, SlopeFit | None, SlopeFit | None]:
    """(iteration of the largest jump, fit before it, fit after it); Nones when there is no jump."""
    if shape.step_index is None:
        return None, None, None
    index = shape.step_index
    return (int(x[index]), theil_sen(x[:index], y[:index], confidence=confidence),
            theil_sen(x[index:], y[index:], confidence=confidence))


def estimate_growth(series: str, x, y, detect_warmup: bool = True, kind: SeriesKind = PARENT_KIND,
                    confidence: float = CONFIDENCE_LEVEL,
                    post_points: PostCollectionPoints | None = None) -> GrowthEstimate | None:
    """Measure the growth of one series; None when it has no measured points at all.

    `confidence` sets the level of every slope interval (stricter at a sequential design's interim looks).
    `post_points`: the series right after the child's forced full collections, to tell a leak from garbage.
    """
    estimate = _estimate(series, x, y, detect_warmup, kind, confidence)
    if estimate is None or post_points is None:
        return estimate
    slope = None if estimate.fit is None else float(estimate.fit.slope)
    return dataclasses.replace(estimate, survival=survival(
        series, estimate.first_iteration, estimate.last_iteration, slope, estimate.growth_floor, post_points))


def _estimate(series: str, x, y, detect_warmup: bool, kind: SeriesKind, confidence: float) -> GrowthEstimate | None:
    x, y = clean_xy(x, y)
    if len(x) == 0:
        return None
    warmup_end = detect_warmup_end(x, y, kind) if detect_warmup else float(x[0])
    judged = x >= warmup_end
    jx, jy = x[judged], y[judged]
    first, last = float(jx[0]), float(jx[-1])
    fit = theil_sen(jx, jy, confidence=confidence)
    early_fit, recent_fit = _segment_fits(jx, jy, confidence)
    if fit is not None:
        residuals = jy - (fit.intercept + fit.slope * jx)
    else:
        residuals = jy - np.median(jy)
    noise_sigma = max(robust_sigma(residuals), 0.0)
    growth_floor = max(kind.min_growth, kind.noise_sigmas * noise_sigma)
    shape = measure_shape(jx, jy, transient_width_points(jx, kind), kind.iteration_aligned)
    step_iteration, before_fit, after_fit = _step_fits(jx, jy, shape, confidence)
    start_level = _edge_level(jy, last=False)
    end_level = _edge_level(jy, last=True)
    return GrowthEstimate(
        series=series, samples_total=int(len(x)), samples_judged=int(len(jx)),
        first_iteration=int(first), last_iteration=int(last),
        warmup_end_iteration=int(warmup_end) if warmup_end > x[0] else 0,
        fit=fit, early_fit=early_fit, recent_fit=recent_fit,
        growth_bytes=end_level - start_level, start_level_bytes=start_level, end_level_bytes=end_level,
        peak_bytes=float(np.max(y)), noise_sigma_bytes=noise_sigma,
        noise_floor_bytes_per_iter=noise_floor_bytes_per_iter(last - first, growth_floor, kind.min_slope),
        step_fraction=shape.step_fraction, release_bytes=shape.release, rise_bytes=shape.rise,
        trough_rise_bytes=shape.trough_rise, peak_rise_bytes=shape.peak_rise, net_rise_bytes=shape.net_rise,
        smooth_sigma_bytes=shape.smooth_sigma,
        smoothed_levels_bytes=tuple(float(level) for level in shape.smooth),
        unit=kind.unit, growth_floor=growth_floor, granularity=kind.min_growth,
        step_iteration=step_iteration, before_step_fit=before_fit, after_step_fit=after_fit,
        envelope=shape.envelope,
    )
