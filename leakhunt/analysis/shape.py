"""The shape of a memory series: transients removed, then from median-binned levels the largest jump (a step),
the deepest release below an earlier level (a sawtooth) and how the lows and highs moved."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import grey_closing, median_filter

from leakhunt.analysis.envelope import Envelope, measure_envelope
from leakhunt.analysis.robust import median_bin, robust_sigma
from leakhunt.analysis.series_kind import SeriesKind

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


@dataclass(frozen=True)
class SeriesShape:
    step_fraction: float
    step_index: int | None  # index into x where the largest jump lands
    release: float
    rise: float
    trough_rise: float
    peak_rise: float
    net_rise: float
    smooth_sigma: float
    smooth: np.ndarray
    envelope: Envelope | None = None


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


def measure_shape(x: np.ndarray, y: np.ndarray, transient_width: int, iteration_aligned: bool) -> SeriesShape:
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
    return SeriesShape(step_fraction, step_index, release, rise, trough_rise, peak_rise, net_rise,
                       float(smooth_sigma), smooth,
                       measure_envelope(y) if iteration_aligned else None)


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
