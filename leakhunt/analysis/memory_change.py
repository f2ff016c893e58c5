"""Memory growth of two runs over their common span: each run's growth re-estimated on the readings inside
the span (analysis/leak.estimate_growth, judged by analysis/rules.judge_growth), and whether B grows faster
or slower than A.

Two runs of the same code that stop at different iterations (--until-decided stops each once its verdict is
settled) are compared on the same iterations, so a growth that changes over a run (a warm-up, a slowing
climb) is not read as a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from leakhunt.analysis.leak import GrowthEstimate, estimate_growth, iteration_series, memory_series
from leakhunt.analysis.rules import MemoryJudgement, judge_growth
from leakhunt.analysis.series_kind import PARENT_KIND, SeriesKind
from leakhunt.analysis.strategy_analysis import CHILD_SERIES, SAMPLED_SERIES, StrategyAnalysis
from leakhunt.analysis.verdict import JUDGED_SERIES, SERIES_LABELS
from leakhunt.units import human_rate

MemoryOutcome = Literal["more", "less", "same", "unknown"]
# Two slopes differ when their 95% intervals do not overlap, the difference is above both runs' noise floor
# over the span, and the faster one grows at least this much faster (relative to it): the same leaking code
# leaked 198-199 KiB/iter in five runs (docs/benchmarks.md), so a leak added on top of it moves it by more.
MIN_RELATIVE_SLOPE_CHANGE = 0.05
LEAKING = "leak"


@dataclass(frozen=True)
class SeriesInSpan:
    """One run's series over the common span."""

    estimate: GrowthEstimate | None
    judgement: MemoryJudgement

    @property
    def slope(self) -> float | None:
        return None if self.estimate is None or self.estimate.fit is None else self.estimate.fit.slope

    @property
    def interval(self) -> tuple[float, float] | None:
        fit = None if self.estimate is None else self.estimate.fit
        return None if fit is None else (fit.ci_low, fit.ci_high)

    @property
    def verdict(self) -> str:
        return self.judgement.verdict


@dataclass(frozen=True)
class MemoryChange:
    """How one memory series grew in A and B over the common span, and what that says."""

    series: str
    a: SeriesInSpan
    b: SeriesInSpan
    outcome: MemoryOutcome
    words: str


def series_points(strategy, analysis: StrategyAnalysis, series: str) -> tuple[np.ndarray, np.ndarray, SeriesKind]:
    """(measured iteration, value, kind) of one memory series, read where the run's analysis read it."""
    iterations: pd.DataFrame = strategy.iterations
    warmup = analysis.warmup_steps
    if series == "rss" and analysis.rss_source == "parent":
        return (*memory_series(strategy.samples, SAMPLED_SERIES["rss_parent"], warmup), PARENT_KIND)
    if series in CHILD_SERIES:
        column, kind = CHILD_SERIES[series]
        return (*iteration_series(iterations, column, warmup), kind)
    return (*memory_series(strategy.samples, SAMPLED_SERIES[series], warmup), PARENT_KIND)


def series_in_span(strategy, analysis: StrategyAnalysis, series: str, first: int, last: int) -> SeriesInSpan:
    """The series' growth re-estimated on its readings inside first..last (no warm-up detection: the span
    already starts after both runs' warm-ups)."""
    x, y, kind = series_points(strategy, analysis, series)
    inside = (x >= first) & (x <= last)
    estimate = estimate_growth(series, x[inside], y[inside], detect_warmup=False, kind=kind)
    return SeriesInSpan(estimate, judge_growth(estimate))


def _rate(slope: float | None, unit: str) -> str:
    if slope is None:
        return "?"
    return human_rate(slope, unit)


def _outcome(a: SeriesInSpan, b: SeriesInSpan) -> MemoryOutcome:
    """more / less / same; a span judged a leak in one run and flat or a plateau in the other differs too
    (the verdict table sees a leak over the very iterations where the other run had none)."""
    if a.slope is None or b.slope is None or a.interval is None or b.interval is None:
        return "unknown"
    assert a.estimate is not None and b.estimate is not None
    settled = ("flat", "plateau")
    if b.judgement.verdict == LEAKING and a.judgement.verdict in settled and b.slope > a.slope:
        return "more"
    if a.judgement.verdict == LEAKING and b.judgement.verdict in settled and b.slope < a.slope:
        return "less"
    floor = max(a.estimate.noise_floor_bytes_per_iter, b.estimate.noise_floor_bytes_per_iter)
    delta = b.slope - a.slope
    overlap = b.interval[0] <= a.interval[1] and a.interval[0] <= b.interval[1]
    larger = max(abs(a.slope), abs(b.slope))
    if overlap or abs(delta) <= floor or abs(delta) < MIN_RELATIVE_SLOPE_CHANGE * larger:
        return "same"
    return "more" if delta > 0 else "less"


def _words(series: str, outcome: MemoryOutcome, a: SeriesInSpan, b: SeriesInSpan) -> str:
    unit = a.estimate.unit if a.estimate is not None else "bytes"
    label = SERIES_LABELS.get(series, series.upper() if series == "rss" else series)
    rates = f"{_rate(a.slope, unit)} in A, {_rate(b.slope, unit)} in B"
    if outcome == "unknown":
        return f"{label}: too few readings in the common span to compare ({rates})"
    if outcome == "same":
        return f"{label} grows alike ({rates}; {a.judgement.verdict} / {b.judgement.verdict} over the span)"
    assert a.slope is not None and b.slope is not None
    faster_or_slower = "faster" if outcome == "more" else "slower"
    return (f"{label} grows {faster_or_slower} in B: {rates} ({a.judgement.verdict} → {b.judgement.verdict} "
            f"over the span)")


def compare_series(series: str, a: SeriesInSpan, b: SeriesInSpan) -> MemoryChange:
    outcome = _outcome(a, b)
    return MemoryChange(series, a, b, outcome, _words(series, outcome, a, b))


def compared_series(a: StrategyAnalysis, b: StrategyAnalysis) -> tuple[str, ...]:
    """RSS, plus any series that decided either run's verdict (a C heap leak under RSS's floor)."""
    chosen = ["rss"]
    for analysis in (a, b):
        deciding = analysis.verdict.deciding_series
        if deciding and deciding not in chosen and deciding in JUDGED_SERIES + ("gpu_used",):
            if analysis.estimates.get(deciding) is not None:
                chosen.append(deciding)
    return tuple(chosen)
