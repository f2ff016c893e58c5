"""Growth judged net of garbage: does a series' growth survive the child's forced full collections?

The child's regular readings include garbage awaiting collection: objects in reference cycles stay until
Python's next full collection, which with TensorFlow loaded may come only every ~1500 calls. So a leak read
from them must be confirmed by the post-collection points (collections.csv: the child's memory right after a
forced `gc.collect()` of every generation, sampling/full_collection.py), as leak tools on garbage-collected
runtimes judge the heap after full collections:

- confirmed: the post-collection points rise at least SURVIVAL_MIN_SHARE as fast as the regular readings;
- garbage: they rise far slower, and what survives stays under the series' growth floor: the growth was garbage
  awaiting collection, not a leak (the series is a plateau, pattern `collected`);
- partly garbage: they rise slower but still past the floor: a leak, slower than the readings between
  collections suggest (garbage rides on top);
- unchecked: too few post-collection points in the judged span to tell.

RSS keeps the high-water mark of the first garbage it held (freed Python arenas and heap chunks are reused,
not all returned, even after malloc_trim), so for RSS the interval up to the first collection inside the judged
span does not count: only how the post-collection level moves from there on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

# A leak survives full collections when its post-collection points rise at least this share as fast as its
# readings between collections. A leak's post-collection rate matches its regular rate (nothing to free); garbage
# is freed at every collection (rate ~0); half leaves room for noise in a short interval.
SURVIVAL_MIN_SHARE = 0.5
# Post-collection points needed to tell (after dropping RSS's first interval): two give one interval.
MIN_POST_POINTS = 2
# collections.csv's columns per series: (after, before).
POST_COLUMNS = {"rss": ("rss_after_bytes", "rss_before_bytes"), "heap": ("heap_after_bytes", "heap_before_bytes"),
                "py_blocks": ("py_blocks_after", "py_blocks_before"),
                "tf_current": ("tf_current_after_bytes", "tf_current_before_bytes")}
# The series that count the memory in use, net of garbage, right after a full collection.
IN_USE_SERIES = ("heap", "py_blocks")
# Series whose level keeps freed memory (the allocator's high-water mark) until it is reused.
RETAINS_FREED = frozenset({"rss"})

# Growth read from the post-collection points alone (a leak under a sawtooth of garbage: the level after each
# collection keeps climbing): at least this many points, both halves of them climbing at least this share of
# the whole's rate, by more than this many sigmas of their scatter around their line.
PERSIST_MIN_POINTS = 4
PERSIST_HALF_SHARE = 0.5
PERSIST_NOISE_SIGMAS = 4.0
# A warm-up that stopped: the later half of the points climbs at most this share as fast as the earlier half.
WARMUP_LATE_SHARE = 0.25

SurvivalStatus = Literal["confirmed", "garbage", "partly-garbage", "unchecked"]


@dataclass(frozen=True)
class PostCollectionPoints:
    """A series right after each forced full collection: (measured iteration, value after, value before)."""

    iterations: np.ndarray
    after: np.ndarray
    before: np.ndarray

    def within(self, first_iteration: float, last_iteration: float) -> PostCollectionPoints:
        keep = (self.iterations >= first_iteration) & (self.iterations <= last_iteration)
        return PostCollectionPoints(self.iterations[keep], self.after[keep], self.before[keep])

    def __len__(self) -> int:
        return int(self.iterations.size)


def post_collection_points(collections: pd.DataFrame | None, series: str, warmup_steps: int) -> PostCollectionPoints:
    """The series' post-collection points from collections.csv (rows without readings skipped), in step order."""
    empty = PostCollectionPoints(np.empty(0), np.empty(0), np.empty(0))
    columns = POST_COLUMNS.get(series)
    if collections is None or columns is None or collections.empty or columns[0] not in collections.columns:
        return empty
    steps = pd.to_numeric(collections["step"], errors="coerce").to_numpy(dtype=float)
    after = pd.to_numeric(collections[columns[0]], errors="coerce").to_numpy(dtype=float)
    before = pd.to_numeric(collections[columns[1]], errors="coerce").to_numpy(dtype=float)
    iteration = steps - warmup_steps
    keep = np.isfinite(iteration) & (iteration >= 0) & np.isfinite(after) & np.isfinite(before)
    order = np.argsort(iteration[keep], kind="stable")
    return PostCollectionPoints(iteration[keep][order], after[keep][order], before[keep][order])


@dataclass(frozen=True)
class Survival:
    """What the post-collection points say about one series' growth over its judged span."""

    status: SurvivalStatus
    points_used: int
    post_slope_per_iter: float | None  # how fast the post-collection level rose (bytes or blocks per iteration)
    regular_slope_per_iter: float | None
    most_freed: float  # the most one collection in the span freed in this series
    most_freed_iteration: int | None
    # The post-collection level's slope over the first and the second half of its points (a steady climb keeps
    # both near the overall slope; one jump leaves both far under it), and its points' scatter around its line.
    early_half_slope_per_iter: float | None = None
    late_half_slope_per_iter: float | None = None
    post_noise: float = 0.0
    post_iterations: int = 0  # the iterations the post-collection points span
    climb: float = 0.0  # how far above the first post-collection level the later half's points hold (median)
    # The points' scatter around a line per half: a warm-up bends, so its scatter around one line is its bend.
    knee_noise: float = 0.0

    @property
    def persistent_growth(self) -> float:
        """How much the memory in use grew over the points' span, net of garbage (0 when it did not grow)."""
        return max(self.post_slope_per_iter or 0.0, 0.0) * self.post_iterations

    def stopped_climbing(self, min_climb: float) -> bool:
        """The level after collections climbed by more than `min_climb` and stays there, then stopped: the later half
        of the points rose at most WARMUP_LATE_SHARE as fast as the earlier half (a warm-up: caches, traces, kernels
        filling)."""
        early, late = self.early_half_slope_per_iter, self.late_half_slope_per_iter
        return (self.points_used >= PERSIST_MIN_POINTS and early is not None and late is not None and early > 0
                and late <= WARMUP_LATE_SHARE * early
                and self.climb > max(min_climb, PERSIST_NOISE_SIGMAS * self.knee_noise))

    def grows_steadily(self, min_growth: float) -> bool:
        """The level after each collection keeps climbing, steadily: over at least PERSIST_MIN_POINTS points, both
        halves at least half as fast as the whole, the later half at least half as fast as the earlier one (a
        warm-up that slows is not a leak), by more than `min_growth` and PERSIST_NOISE_SIGMAS of its scatter."""
        post, early, late = self.post_slope_per_iter, self.early_half_slope_per_iter, self.late_half_slope_per_iter
        return (self.points_used >= PERSIST_MIN_POINTS and post is not None and post > 0
                and early is not None and late is not None and min(early, late) >= PERSIST_HALF_SHARE * post
                and late >= PERSIST_HALF_SHARE * early
                and self.persistent_growth > max(min_growth, PERSIST_NOISE_SIGMAS * self.post_noise))


def live_growth(series: str, result: Survival | None, growth_floor: float) -> bool:
    """The memory in use (C heap, Python blocks) read right after forced full collections climbs steadily past the
    series' growth floor: the growth is live memory. A tf.data pipeline built per call: the heap climbed ~0.9 KiB/call
    through 13 post-collection points, while one early 130 KiB jump left the regular readings' residuals so serially
    correlated (2 effective points of 500) that the line's interval was [-0.15, +1.97 KiB]."""
    return (series in IN_USE_SERIES and result is not None and result.status == "confirmed"
            and result.grows_steadily(growth_floor))


def _post_slope(iterations: np.ndarray, values: np.ndarray) -> float:
    """Median of the pairwise slopes (Theil-Sen without an interval: a handful of points, nearly noiseless)."""
    first, second = np.triu_indices(iterations.size, k=1)
    dx = iterations[second] - iterations[first]
    distinct = dx > 0
    return float(np.median((values[second] - values[first])[distinct] / dx[distinct]))


def survival(series: str, first_iteration: float, last_iteration: float, regular_slope_per_iter: float | None,
             growth_floor: float, points: PostCollectionPoints) -> Survival:
    """Whether a series' growth over its judged span (the regular readings' slope) survived the forced full
    collections inside that span; `growth_floor` is the series' growth over the span that is noise."""
    inside = points.within(first_iteration, last_iteration)
    # What a collection freed says something about the judged growth only from the second one on: the first
    # frees what piled up before the span (the warm-up's garbage, at the baseline).
    later = PostCollectionPoints(inside.iterations[1:], inside.after[1:], inside.before[1:])
    freed = later.before - later.after
    most_freed = float(freed.max()) if len(later) else 0.0
    most_freed_at = int(later.iterations[int(np.argmax(freed))]) if len(later) else None
    used = later if series in RETAINS_FREED else inside
    regular = regular_slope_per_iter
    if len(used) < MIN_POST_POINTS or np.unique(used.iterations).size < 2 or regular is None:
        return Survival("unchecked", len(used), None, regular, most_freed, most_freed_at)
    post = _post_slope(used.iterations, used.after)
    shape = _post_shape(used, post)
    if regular <= 0 or post >= SURVIVAL_MIN_SHARE * regular:
        status: SurvivalStatus = "confirmed"
    elif max(post, 0.0) * max(last_iteration - first_iteration, 0.0) < growth_floor:
        status = "garbage"
    else:
        status = "partly-garbage"
    return Survival(status, len(used), post, regular, most_freed, most_freed_at, *shape)


def _half_split(iterations: np.ndarray) -> int:
    """Where the points' first half ends (exclusive; the last point of it starts the second half too): at the
    middle of the iterations they span, not of their count. Collections a look requested cluster where the growth
    first looked like a leak (two at calls 613 and 620 of a retracing warm-up), and a split by count then moved the
    warm-up's end into the "late" half: the same run read a warm-up that stopped, or not, by where looks fell."""
    middle = (iterations[0] + iterations[-1]) / 2
    by_span = int(np.searchsorted(iterations, middle, side="right"))
    if 2 <= by_span <= iterations.size - 1:
        return by_span
    return (iterations.size + 1) // 2


def _robust_sigma(residuals: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(residuals - np.median(residuals)))) if residuals.size else 0.0


def _knee_noise(x: np.ndarray, y: np.ndarray, half: int, early: float | None, late: float | None) -> float:
    """The points' scatter around a line through each half (the halves share their boundary point). A retracing
    warm-up's Python blocks after collections (+17.4k, then level) scattered 5.2k around one line, ~0 around two."""
    if early is None or late is None:
        return _robust_sigma(y - (early if early is not None else late or 0.0) * x)  # one line: its offset cancels
    parts = []
    for xs, ys, slope in ((x[:half], y[:half], early), (x[half - 1:], y[half - 1:], late)):
        offsets = ys - slope * xs
        parts.append(offsets - np.median(offsets))
    return _robust_sigma(np.concatenate(parts))


def _post_shape(used: PostCollectionPoints, post_slope: float
                ) -> tuple[float | None, float | None, float, int, float, float]:
    """(early half's slope, late half's slope, scatter around the line, span in iterations, climb, scatter around
    the two halves' lines) of the points."""
    x, y = used.iterations, used.after
    half = _half_split(x)
    early = _post_slope(x[:half], y[:half]) if np.unique(x[:half]).size >= 2 else None
    late = _post_slope(x[half - 1:], y[half - 1:]) if np.unique(x[half - 1:]).size >= 2 else None
    noise = _robust_sigma(y - post_slope * x)
    # The climb is what the level still holds in the later half: one high point (a prefetch buffer in flight at one
    # collection: +375 KiB at call 410 of a flat tf.data loop, back at the start by 610) is not a warm-up.
    held = float(np.median(y[half - 1:]))
    return (early, late, noise, int(x[-1] - x[0]), min(float(y.max()), held) - float(y[0]),
            _knee_noise(x, y, half, early, late))


@dataclass(frozen=True)
class FullCollections:
    """What the child's full collections were over the judged iterations: how many it forced (and how many the
    time budget skipped), what they cost, and how many Python ran by itself."""

    forced: int
    skipped_for_budget: int
    seconds: float
    auto: int | None  # automatic full collections between the first and the last measured reading
    first_iteration: int
    last_iteration: int

    @property
    def note(self) -> str | None:
        """What a reader of the verdict should know about garbage, or None."""
        if self.skipped_for_budget:
            return (f"the time budget allowed only {self.forced} forced full collection(s) ({self.skipped_for_budget} "
                    f"skipped): garbage awaiting collection is told from a leak less surely; a longer run allows more")
        if self.auto == 0 and self.forced <= 1:
            return (f"no full collection ran between iterations {self.first_iteration} and {self.last_iteration} but "
                    f"the baseline: objects in reference cycles would still be waiting to be freed")
        return None


def full_collections(collections: pd.DataFrame | None, iterations: pd.DataFrame,
                     warmup_steps: int) -> FullCollections | None:
    """The run's full collections, from collections.csv and the readings' automatic count; None for a run folder
    written before the child forced any."""
    if collections is None or collections.empty or "reason" not in collections.columns:
        return None
    steps = pd.to_numeric(collections["step"], errors="coerce")
    measured = collections[steps >= warmup_steps]
    reasons = measured["reason"].astype(str)
    durations = pd.to_numeric(measured["duration_s"], errors="coerce")
    auto = None
    if "gc_auto_full_collections" in iterations.columns and "step" in iterations.columns:
        counts = pd.to_numeric(iterations["gc_auto_full_collections"], errors="coerce")
        counts = counts[(pd.to_numeric(iterations["step"], errors="coerce") >= warmup_steps) & counts.notna()]
        auto = int(counts.iloc[-1] - counts.iloc[0]) if len(counts) else None
    iteration = pd.to_numeric(iterations.get("step", pd.Series(dtype=float)), errors="coerce") - warmup_steps
    iteration = iteration[iteration >= 0]
    return FullCollections(
        forced=int((reasons != "skipped-for-budget").sum()),
        skipped_for_budget=int((reasons == "skipped-for-budget").sum()),
        seconds=float(durations.sum(skipna=True)), auto=auto,
        first_iteration=int(iteration.min()) if len(iteration) else 0,
        last_iteration=int(iteration.max()) if len(iteration) else 0)
