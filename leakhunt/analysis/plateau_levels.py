"""Where a bounded series (plateau: sawtooth, stopped, step) stays: its lowest and highest level, how much
it releases and how often. A slope says nothing useful about a sawtooth; its bounds do.

Computed here, once, for every renderer (report.html, summary.md, the terminal), from the same judged readings
and the same release threshold the verdict used (analysis.verdict.facts_of). The releases are found on the
readings themselves (transients removed), not on the verdict's binned levels (shape.count_releases): a release's
depth and position, which the text reports, need the readings; a fall that keeps falling is one release here.
summary.json has no such fields: `levels_from_summary` falls back on its start/end/peak levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.leak import (
    PARENT_KIND,
    GrowthEstimate,
    iteration_series,
    memory_series,
    transient_width_points,
    without_transients,
)
from leakhunt.analysis.robust import clean_xy
from leakhunt.analysis.settle import SETTLE_SERIES
from leakhunt.analysis.summary_types import SeriesSummary, StrategySummary, Summary
from leakhunt.analysis.verdict import facts_of

# The series a plateau's bounds are shown for, in order of preference: RSS is what people watch; a finer
# series only where it, not RSS, made the strategy a plateau.
BOUNDS_SERIES_ORDER = ("rss", "heap", "py_blocks", "tf_current", "gpu_process", "uss", "rss_parent", "gpu_used")
BOUNDED_VERDICT = "plateau"
PARENT_COLUMNS = {"rss_parent": "rss_bytes", "uss": "uss_bytes", "gpu_process": "gpu_process_bytes",
                  "gpu_used": "gpu_used_bytes"}


@dataclass(frozen=True)
class Levels:
    """The band a bounded series moves in, after its warm-up, transients removed."""

    series: str
    unit: str  # "bytes" or "blocks"
    pattern: str  # sawtooth, stopped, step (or another plateau pattern)
    low: float  # lowest level
    high: float  # highest level
    releases: int = 0  # how many releases (the verdict's count)
    release_size: float | None = None  # typical (median) depth of one release, peak to trough
    period_iterations: float | None = None  # typical iterations between releases
    first_iteration: int | None = None
    last_iteration: int | None = None
    peak_only: bool = False  # only the peak is known (summary.json without the readings): no lowest level


def _series_verdict(memory: dict[str, SeriesSummary], series: str) -> str | None:
    values = memory.get(series)
    return None if values is None else values.get("verdict")


def plateau_series(entry: StrategySummary) -> str | None:
    """Which series a plateau strategy's bounds describe (None when its memory is not bounded)."""
    memory = entry.get("memory") or {}
    if entry.get("memory_verdict", entry.get("verdict")) != BOUNDED_VERDICT:
        return None
    pattern = entry.get("pattern")
    candidates = [s for s in BOUNDS_SERIES_ORDER if _series_verdict(memory, s) == BOUNDED_VERDICT]
    matching = [s for s in candidates if memory[s].get("pattern") == pattern]
    chosen = next(iter(matching or candidates), None)
    return chosen


def _judged_xy(series: str, analysis, strategy) -> tuple[np.ndarray, np.ndarray]:
    """The readings the verdict judged for `series` (all of them; the warm-up is cut by the caller)."""
    if series in SETTLE_SERIES and not (series == "rss" and getattr(analysis, "rss_source", "child") == "parent"):
        column = SETTLE_SERIES[series][0]
        return clean_xy(*iteration_series(strategy.iterations, column, analysis.warmup_steps))
    from leakhunt.analysis.summarize import judged_samples

    column = PARENT_COLUMNS.get(series, "rss_bytes")
    return clean_xy(*memory_series(judged_samples(strategy), column, analysis.warmup_steps))


def _kind(series: str, analysis):
    if series in SETTLE_SERIES and not (series == "rss" and getattr(analysis, "rss_source", "child") == "parent"):
        return SETTLE_SERIES[series][1]
    return PARENT_KIND


def levels_of(series: str, estimate: GrowthEstimate, x: np.ndarray, y: np.ndarray, kind,
              pattern: str) -> Levels:
    """Bounds of one judged series: (x, y) are all its readings, `estimate` the analysis' view of them."""
    judged = x >= estimate.first_iteration  # the verdict's judged window: after the detected warm-up
    jx, jy = x[judged], y[judged]
    if len(jx) == 0:
        return Levels(series, estimate.unit, pattern, estimate.start_level_bytes, estimate.peak_bytes)
    smooth = without_transients(jy, transient_width_points(jx, kind), kind.iteration_aligned)
    low, high = float(np.min(smooth)), float(np.max(smooth))
    threshold = facts_of(estimate).release_threshold
    releases, sizes = find_releases(jx, smooth, threshold)
    period = None
    if len(releases) >= 2:
        period = float((releases[-1] - releases[0]) / (len(releases) - 1))
    elif len(releases) == 1:
        period = float(jx[-1] - jx[0])
    return Levels(
        series=series, unit=estimate.unit, pattern=pattern, low=low, high=high, releases=len(releases),
        release_size=float(np.median(sizes)) if sizes else None, period_iterations=period,
        first_iteration=int(jx[0]), last_iteration=int(jx[-1]),
    )


def find_releases(x: np.ndarray, y: np.ndarray, threshold: float) -> tuple[list[float], list[float]]:
    """Where the level falls at least `threshold` below its high since the previous release, and how deep
    each fall goes (down to its trough, before the level climbs again)."""
    positions: list[float] = []
    sizes: list[float] = []
    high = trough = None
    falling_from = None
    for position, level in zip(x, y, strict=False):
        if falling_from is not None:
            if level <= trough:
                trough = level
                continue
            if level - trough < threshold / 2:
                continue
            sizes.append(float(falling_from - trough))
            falling_from, high = None, trough
        high = level if high is None else max(high, level)
        if high - level >= threshold:
            positions.append(float(position))
            falling_from, trough = high, level
    if falling_from is not None:
        sizes.append(float(falling_from - trough))
    return positions, sizes


def strategy_series_levels(analysis, strategy, entry: StrategySummary) -> dict[str, Levels]:
    """Bounds of every series judged a plateau (the per-series table shows them), from the data on disk."""
    found = {}
    for series, values in (entry.get("memory") or {}).items():
        estimate = analysis.estimates.get(series)
        if values.get("verdict") != BOUNDED_VERDICT or estimate is None:
            continue
        x, y = _judged_xy(series, analysis, strategy)
        found[series] = levels_of(series, estimate, x, y, _kind(series, analysis), str(values.get("pattern") or ""))
    return found


def run_series_levels(analyses, strategies, summary: Summary) -> list[dict[str, Levels]]:
    """Per strategy (summary order), the bounds of each of its plateau series."""
    return [strategy_series_levels(analysis, strategy, entry)
            for analysis, strategy, entry in zip(analyses, strategies, summary.get("strategies", []), strict=False)]


def run_levels(analyses, strategies, summary: Summary,
               series_levels: list[dict[str, Levels]] | None = None) -> list[Levels | None]:
    """One entry per strategy, in summary order: the bounds its verdict rests on (None unless a plateau)."""
    entries = summary.get("strategies", [])
    series_levels = series_levels if series_levels is not None else run_series_levels(analyses, strategies, summary)
    found = []
    for entry, by_series in zip(entries, series_levels, strict=False):
        series = plateau_series(entry)
        found.append(None if series is None else by_series.get(series) or levels_from_summary(entry))
    return found


def levels_from_summary(entry: StrategySummary) -> Levels | None:
    """Bounds from summary.json alone (the terminal, or a summary without its run folder).

    summary.json keeps no lowest level or releases, only the band between the start (or end) level and the peak:
    the text then names the peak alone.
    """
    series = plateau_series(entry)
    if series is None:
        return None
    values = (entry.get("memory") or {}).get(series)
    if values is None:
        return None
    start, end, peak = values.get("start_level_bytes"), values.get("end_level_bytes"), values.get("peak_bytes")
    levels = [v for v in (start, end) if isinstance(v, (int, float))]
    low = min(levels) if levels else None
    high = peak if isinstance(peak, (int, float)) else (max(levels) if levels else None)
    if low is None or high is None:
        return None
    return Levels(series=series, unit=str(values.get("unit") or "bytes"),
                  pattern=str(values.get("pattern") or entry.get("pattern") or ""), low=float(low), high=float(high),
                  first_iteration=values.get("first_iteration"), last_iteration=values.get("last_iteration"),
                  peak_only=True)
