"""Memory growth of one series (RSS, C heap, Python blocks, USS, GPU, TF allocator) against the iteration.

`estimate_growth` turns raw (iteration, value) points into the numbers a verdict needs: where the climb to
a steady state ended, a robust slope with a 95% interval over the rest, early and recent rates, how much
memory is released along the way (sawtooth) and how much of the growth came in one jump (step).
Each series has its own noise floor (`SeriesKind`): RSS moves in pages and allocator chunks, the C heap
in bytes, Python's allocator in blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.ndimage import grey_closing, median_filter

from leakhunt.analysis.robust import CONFIDENCE_LEVEL, SlopeFit, clean_xy, median_bin, robust_sigma, theil_sen

PAGE_BYTES = 4096  # RSS moves in whole pages; nothing finer is measurable
# Allocators take memory from the OS in chunks (glibc heap top and mmap threshold up to 32 MiB, Python
# arenas of 256 KiB-1 MiB, TF/BFC regions of MiBs), so a flat workload's RSS can settle a MiB or two above
# where it started. Growth smaller than this over the judged window is never called a leak. At 5000
# iterations it sets a floor of ~420 B/iter, so a 1 KiB/iter leak (5 MB) is still caught.
GROWTH_FLOOR_BYTES = 2 * 1024 * 1024
# Below one byte per iteration nothing is actionable, however long the run.
SLOPE_FLOOR_MIN_BYTES_PER_ITER = 1.0
# Warm-up: the early climb must end within this fraction of the measured iterations; growth that lasts
# longer is judged (as a plateau or a leak), not hidden as warm-up.
WARMUP_MAX_FRACTION = 0.25
# A bin counts as "at steady state" once it is within this share of the series' growth floor (256 KiB for
# RSS), or 3 robust sigmas, of the late trend.
WARMUP_LEVEL_TOLERANCE_FRACTION = 1 / 8
WARMUP_BINS = 40
WARMUP_MIN_SAMPLES = 20
# Early and recent rates come from the first and last third of the judged iterations.
SEGMENT_FRACTION = 1.0 / 3.0
# The observed growth compares the median level of the first and last 5% of judged samples.
EDGE_FRACTION = 0.05
EDGE_MIN_SAMPLES = 3
# Shapes are read from median-binned levels: 20 bins to find a single jump, 100 to see releases.
STEP_BINS = 20
RELEASE_BINS = 100
# Each smoothed level is the median of at least this many parent samples, so noise alone rarely looks like a
# drop. The child's readings are taken at the same point of every step and their transients are removed in
# iterations first, so a level needs fewer of them: five, which still keeps a 150-iteration run's teeth (30
# levels) while an input-dependent cycle (a persistent Session fed six images in turn holds 161-209 MB in
# TF's allocator, by image) is read as its median, not as releases: with one reading per level such a flat
# series was a "sawtooth" at 131-392 iterations and flat after, so the verdict changed with --iterations.
RELEASE_MIN_SAMPLES_PER_BIN = 10
RELEASE_MIN_READINGS_PER_BIN = 5
# A drop that recovers within this many samples (2.5 s at the default 10 Hz) is transient, not a release:
# e.g. a TF1 Session freeing a large buffer, glibc trimming it back to the OS, and the next run taking it
# again (seen on the tutorial pattern: 700 MB dips lasting ~1 s while the level keeps rising). A grey
# closing of this width removes such dips and keeps every drop that lasts longer (a real sawtooth).
# This width is for the parent's steady-clock samples (old run folders, USS, GPU).
TRANSIENT_DIP_MAX_SAMPLES = 25
# For the child's iteration-aligned readings the width is set in iterations, whatever the machine's load:
# a dip or spike that comes back within this many iterations is a transient. They are removed with a
# running median (window 2m+1 readings for transients of up to m readings), which, unlike a grey closing,
# leaves ramps and edges where they are: a sawtooth's teeth keep their full depth.
TRANSIENT_MAX_ITERATIONS = 3
# A step: the rest of the series outside the jump must not be clearly growing, and the jump cannot carry
# more than the net rise (plus this tolerance for the levels' own noise): more than 100% is not one step.
STEP_MAX_FRACTION = 1.15


@dataclass(frozen=True)
class SeriesKind:
    """What a series measures and how much growth over a run is below its noise floor."""

    unit: str  # "bytes" or "blocks"
    min_growth: float  # growth over the judged window never called a leak (allocator granularity)
    # ...nor growth below this many robust sigmas of the points' scatter around the fit.
    noise_sigmas: float = 0.0
    iteration_aligned: bool = True  # read by the child at the end of a step (vs the parent's clock)
    min_slope: float = SLOPE_FLOOR_MIN_BYTES_PER_ITER  # below this rate nothing is actionable


# RSS: pages, plus allocator chunks (glibc heap top, mmap threshold, Python arenas, TF regions).
RSS_KIND = SeriesKind("bytes", 2 * 1024 * 1024)
# The C heap counts bytes in use: a flat loop's in-use bytes come back to the same level at the same point
# of the loop, so a much smaller floor holds. 64 KiB is a few of TF's per-thread caches filling; growth
# below two sigmas of the scatter (other threads allocating at the reading) is not called a leak either.
HEAP_KIND = SeriesKind("bytes", 64 * 1024, noise_sigmas=2.0)
# Python's live blocks: caches (type attribute cache, interned strings, freelists) settle within a few
# thousand blocks; beyond that a count that keeps rising is objects kept per call.
PY_BLOCKS_KIND = SeriesKind("blocks", 2000, noise_sigmas=2.0, min_slope=0.01)
PARENT_KIND = SeriesKind("bytes", 2 * 1024 * 1024, iteration_aligned=False)
TF_ALLOCATOR_KIND = SeriesKind("bytes", 2 * 1024 * 1024)


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

    @property
    def judged_span_iterations(self) -> int:
        return max(self.last_iteration - self.first_iteration, 0)


def noise_floor_bytes_per_iter(span_iterations: float, growth_floor: float = GROWTH_FLOOR_BYTES,
                               min_slope: float = SLOPE_FLOOR_MIN_BYTES_PER_ITER) -> float:
    """The smallest slope that is more than `growth_floor` (allocator granularity) over `span_iterations`."""
    if span_iterations <= 0:
        return float("inf")
    return max(min_slope, growth_floor / span_iterations)


def _measured_series(frame: pd.DataFrame, step_column: str, column: str,
                     warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, value) from a step-indexed table; warm-up, build and empty cells dropped."""
    if column not in frame.columns or step_column not in frame.columns or frame.empty:
        return np.empty(0), np.empty(0)
    steps = pd.to_numeric(frame[step_column], errors="coerce").to_numpy(dtype=float)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    iteration = steps - warmup_steps
    keep = np.isfinite(iteration) & (iteration >= 0) & np.isfinite(values)
    return clean_xy(iteration[keep], values[keep])


def memory_series(samples: pd.DataFrame, column: str, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, bytes) for parent samples taken after the warm-up; build/warm-up dropped."""
    return _measured_series(samples, "steps_done", column, warmup_steps)


def iteration_series(iterations: pd.DataFrame, column: str, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, value) for a per-step signal column of iterations.csv; empty cells dropped."""
    return _measured_series(iterations, "step", column, warmup_steps)


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


def _edge_level(y: np.ndarray, last: bool) -> float:
    count = max(EDGE_MIN_SAMPLES, int(len(y) * EDGE_FRACTION))
    part = y[-count:] if last else y[:count]
    return float(np.median(part))


def _segment_fit(x: np.ndarray, y: np.ndarray, low: float, high: float,
                 confidence: float = CONFIDENCE_LEVEL) -> SlopeFit | None:
    keep = (x >= low) & (x <= high)
    return theil_sen(x[keep], y[keep], confidence=confidence)


@dataclass(frozen=True)
class _Shape:
    step_fraction: float
    step_index: int | None  # index into x where the largest jump lands
    release: float
    rise: float
    trough_rise: float
    peak_rise: float
    net_rise: float
    smooth_sigma: float
    smooth: np.ndarray


def transient_width_points(x: np.ndarray, kind: SeriesKind) -> int:
    """How many consecutive points a transient dip or spike may span (see TRANSIENT_MAX_ITERATIONS)."""
    if not kind.iteration_aligned:
        return TRANSIENT_DIP_MAX_SAMPLES
    if len(x) < 2:
        return 1
    iterations_per_point = max(float(np.median(np.diff(x))), 1e-9)
    return max(1, int(np.ceil(TRANSIENT_MAX_ITERATIONS / iterations_per_point)))


def without_transients(y: np.ndarray, width: int, iteration_aligned: bool = False) -> np.ndarray:
    """Dips (and, for readings, spikes) spanning at most `width` points removed.

    Parent samples: a grey closing of that width (the steady clock catches long mid-step dips). The
    child's readings: a running median of 2*width+1 points, which keeps ramps and edges intact.
    """
    if iteration_aligned:
        if len(y) < 4 * width + 2:
            return y
        return median_filter(y, size=2 * width + 1, mode="nearest")
    if len(y) < 4 * width or width < 2:
        return y
    return grey_closing(y, size=width, mode="nearest")


def _largest_jump(x: np.ndarray, y: np.ndarray) -> tuple[float, float, int | None]:
    """(step_fraction, net_rise, index of the jump) from 20 median-binned levels."""
    n = len(y)
    if n < 2 * 4:
        return float("nan"), 0.0, None
    bins = int(min(STEP_BINS, n // 2))
    _, levels = median_bin(x, y, bins)
    net_rise = float(levels[-1] - levels[0])
    jumps = np.diff(levels)
    if net_rise <= 0 or not jumps.size:
        return float("nan"), net_rise, None
    pair = jumps if jumps.size < 2 else jumps[:-1] + jumps[1:]
    best_pair, best_single = int(np.argmax(pair)), int(np.argmax(jumps))
    if pair[best_pair] >= jumps[best_single]:
        fraction, bin_index = float(pair[best_pair] / net_rise), best_pair + 1
    else:
        fraction, bin_index = float(jumps[best_single] / net_rise), best_single + 1
    edges = np.linspace(0, n, bins + 1).astype(int)
    return fraction, net_rise, int(edges[min(bin_index, bins - 1)])


def _shape(x: np.ndarray, y: np.ndarray, transient_width: int, iteration_aligned: bool) -> _Shape:
    """Step, release and rise measures from binned levels of the series with its transients removed."""
    undipped = without_transients(y, transient_width, iteration_aligned)
    min_points_per_bin = RELEASE_MIN_READINGS_PER_BIN if iteration_aligned else RELEASE_MIN_SAMPLES_PER_BIN
    step_fraction, net_rise, step_index = _largest_jump(x, undipped)
    n = len(y)
    _, smooth = median_bin(x, undipped, int(min(RELEASE_BINS, max(n // min_points_per_bin, 2))))
    smooth_sigma = robust_sigma(np.diff(smooth)) / np.sqrt(2) if smooth.size > 2 else 0.0
    running_max = np.maximum.accumulate(smooth)
    release = float(np.max(running_max - smooth)) if smooth.size else 0.0
    rise = float(smooth.max() - smooth.min()) if smooth.size else 0.0
    quarters = np.array_split(smooth, 4) if smooth.size >= 4 else [smooth, smooth]
    trough_rise = float(quarters[-1].min() - quarters[0].min())
    peak_rise = float(quarters[-1].max() - quarters[0].max())
    return _Shape(step_fraction, step_index, release, rise, trough_rise, peak_rise, net_rise,
                  float(smooth_sigma), smooth)


def count_releases(levels: tuple[float, ...] | np.ndarray, min_drop_bytes: float) -> int:
    """How many times the level fell at least min_drop_bytes below its high since the previous fall."""
    count = 0
    high = None
    for level in levels:
        high = level if high is None else max(high, level)
        if high - level >= min_drop_bytes:
            count += 1
            high = level
    return count


def estimate_growth(series: str, x, y, detect_warmup: bool = True, kind: SeriesKind = PARENT_KIND,
                    confidence: float = CONFIDENCE_LEVEL) -> GrowthEstimate | None:
    """Measure the growth of one series; None when it has no measured points at all.

    `confidence` sets the level of every slope interval (stricter at a sequential design's interim looks).
    """
    x, y = clean_xy(x, y)
    if len(x) == 0:
        return None
    warmup_end = detect_warmup_end(x, y, kind) if detect_warmup else float(x[0])
    judged = x >= warmup_end
    jx, jy = x[judged], y[judged]
    first, last = float(jx[0]), float(jx[-1])
    span = last - first
    fit = theil_sen(jx, jy, confidence=confidence)
    segment = span * SEGMENT_FRACTION
    early_fit = _segment_fit(jx, jy, first, first + segment, confidence) if span > 0 else None
    recent_fit = _segment_fit(jx, jy, last - segment, last, confidence) if span > 0 else None
    if fit is not None:
        residuals = jy - (fit.intercept + fit.slope * jx)
    else:
        residuals = jy - np.median(jy)
    noise_sigma = max(robust_sigma(residuals), 0.0)
    growth_floor = max(kind.min_growth, kind.noise_sigmas * noise_sigma)
    shape = _shape(jx, jy, transient_width_points(jx, kind), kind.iteration_aligned)
    before_fit = after_fit = None
    step_iteration = None
    if shape.step_index is not None:
        step_iteration = int(jx[shape.step_index])
        before_fit = theil_sen(jx[:shape.step_index], jy[:shape.step_index], confidence=confidence)
        after_fit = theil_sen(jx[shape.step_index:], jy[shape.step_index:], confidence=confidence)
    start_level = _edge_level(jy, last=False)
    end_level = _edge_level(jy, last=True)
    return GrowthEstimate(
        series=series,
        samples_total=int(len(x)),
        samples_judged=int(len(jx)),
        first_iteration=int(first),
        last_iteration=int(last),
        warmup_end_iteration=int(warmup_end) if warmup_end > x[0] else 0,
        fit=fit,
        early_fit=early_fit,
        recent_fit=recent_fit,
        growth_bytes=end_level - start_level,
        start_level_bytes=start_level,
        end_level_bytes=end_level,
        peak_bytes=float(np.max(y)),
        noise_sigma_bytes=noise_sigma,
        noise_floor_bytes_per_iter=noise_floor_bytes_per_iter(span, growth_floor, kind.min_slope),
        step_fraction=shape.step_fraction,
        release_bytes=shape.release,
        rise_bytes=shape.rise,
        trough_rise_bytes=shape.trough_rise,
        peak_rise_bytes=shape.peak_rise,
        net_rise_bytes=shape.net_rise,
        smooth_sigma_bytes=shape.smooth_sigma,
        smoothed_levels_bytes=tuple(float(level) for level in shape.smooth),
        unit=kind.unit,
        growth_floor=growth_floor,
        granularity=kind.min_growth,
        step_iteration=step_iteration,
        before_step_fit=before_fit,
        after_step_fit=after_fit,
    )
