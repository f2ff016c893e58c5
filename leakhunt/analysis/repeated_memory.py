"""Memory growth of B against A when each side is several runs: every run of A paired with every run of B
(analysis/memory_change.py judges each pair over the common span), and B grows faster (slower) only when
every pairing says so. A same-code pair that reads "more" by chance in one pairing does not carry the sides;
a leak added or fixed moves every pairing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.memory_change import MemoryChange, MemoryOutcome, SeriesInSpan, compare_series
from leakhunt.analysis.verdict import SERIES_LABELS
from leakhunt.units import human_rate


@dataclass(frozen=True)
class SideSeries:
    """One series over the common span in each run of a side."""

    runs: list[SeriesInSpan]

    @property
    def slope(self) -> float | None:
        slopes = [run.slope for run in self.runs if run.slope is not None]
        return float(np.median(slopes)) if slopes else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The hull of the runs' 95% intervals (what every run of the side allows)."""
        intervals = [run.interval for run in self.runs if run.interval is not None]
        if not intervals:
            return None
        return min(low for low, _ in intervals), max(high for _, high in intervals)

    @property
    def verdict(self) -> str:
        verdicts = [run.judgement.verdict for run in self.runs]
        return max(set(verdicts), key=verdicts.count) if verdicts else "unknown"


@dataclass(frozen=True)
class RepeatedMemoryChange:
    series: str
    a: SideSeries
    b: SideSeries
    outcome: MemoryOutcome
    words: str
    pairings: list[MemoryChange]


def _outcome(pairings: list[MemoryChange]) -> MemoryOutcome:
    outcomes = {pairing.outcome for pairing in pairings}
    if not pairings or "unknown" in outcomes:
        return "unknown"
    if outcomes in ({"more"}, {"less"}):
        return outcomes.pop()
    return "same"


def _words(series: str, outcome: MemoryOutcome, a: SideSeries, b: SideSeries, pairings: list[MemoryChange]) -> str:
    unit = next((run.estimate.unit for run in a.runs if run.estimate is not None), "bytes")
    label = SERIES_LABELS.get(series, series.upper() if series == "rss" else series)
    rates = (f"median {'?' if a.slope is None else human_rate(a.slope, unit)} over {len(a.runs)} runs of A, "
             f"{'?' if b.slope is None else human_rate(b.slope, unit)} over {len(b.runs)} of B")
    moved = [pairing.outcome for pairing in pairings if pairing.outcome in ("more", "less")]
    if outcome == "unknown":
        return f"{label}: too few readings in the common span of some runs to compare ({rates})"
    if outcome in ("more", "less"):
        faster_or_slower = "faster" if outcome == "more" else "slower"
        return f"{label} grows {faster_or_slower} in B in all {len(pairings)} pairings of runs: {rates}"
    if moved:
        return (f"{label} grows alike: only {len(moved)} of {len(pairings)} pairings of runs differed, not all "
                f"({rates})")
    return f"{label} grows alike in all {len(pairings)} pairings of runs ({rates})"


def compare_repeated_series(series: str, runs_a: list[SeriesInSpan],
                            runs_b: list[SeriesInSpan]) -> RepeatedMemoryChange:
    pairings = [compare_series(series, a, b) for a in runs_a for b in runs_b]
    a, b = SideSeries(runs_a), SideSeries(runs_b)
    outcome = _outcome(pairings)
    return RepeatedMemoryChange(series, a, b, outcome, _words(series, outcome, a, b, pairings), pairings)
