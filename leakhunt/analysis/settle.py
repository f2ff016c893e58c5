"""When a strategy's verdict is settled: a sequential design for `--until-decided`.

While the child runs, the parent looks at its iteration-aligned readings now and then (iterations grow
by LOOK_GROWTH between looks) and asks whether running on to the maximum would, with high probability,
not change the verdict. Many looks at a growing sample inflate false findings, so every interim look
judges with Haybittle-Peto's stricter interval (INTERIM_CONFIDENCE, 99.9%) instead of 95%, and a verdict
must hold at CONSECUTIVE_LOOKS looks in a row. A look settles only if the final analysis (95%) of the same
readings gives the same verdict, and only once the latency trend is decided too (analysis/drift.drift_state);
the reported verdict is then computed on exactly the iterations the settling look read.

Settled means, per verdict (the conditions are in settle_conditions.py):
- leak: a steady leak (linear or a rising sawtooth; a slowing climb may be a warm-up) in any series at
  99.9%, at two looks in a row, the same series leaking at both at rates within 25% of each other, and its
  growth survived the forced full collections the child ran (garbage awaiting collection is not a leak): a look
  that sees growth like a leak asks the child for one, so the next look can tell;
- flat: every series that can decide is flat, and even the upper end of its 99.9% interval, held for
  every iteration up to the maximum, would stay below that series' growth floor of the full run; or (flat
  by level, for page staircases whose slope interval is useless) the growth so far plus the recent third's
  rate held to the maximum stays under half the growth floor; and Python's blocks are not growing unchecked;
- plateau (a bounded sawtooth): no series leaks and some bounded-sawtooth series (the C heap counts:
  RSS releases rarely) shows at least SAWTOOTH_SETTLE_RELEASES releases, or as many forced collections
  kept bringing its level back; a sawtooth read from its envelope (teeth in every eighth, level lows and highs);
- plateau (garbage: `collected`, `retained`): the post-collection level of the memory in use, held to the
  maximum, stays under the floor, after as many collections as a sawtooth needs teeth;
- plateau (growth that stopped, or one step): the same projection as flat, on the part after the climb;
- inconclusive: never settled, the run goes on.
Never before MIN_ITERATIONS_BEFORE_STOP measured iterations and MIN_READINGS_BEFORE_STOP readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leakhunt.analysis.drift import DriftState, drift_state
from leakhunt.analysis.garbage import with_retained_garbage, with_stopped_warmup
from leakhunt.analysis.latency import latency_stats, measured_latency
from leakhunt.analysis.leak import (
    HEAP_KIND,
    PY_BLOCKS_KIND,
    RSS_KIND,
    TF_ALLOCATOR_KIND,
    GrowthEstimate,
    estimate_growth,
    iteration_series,
)
from leakhunt.analysis.post_collection import post_collection_points
from leakhunt.analysis.robust import CONFIDENCE_LEVEL
from leakhunt.analysis.settle_conditions import LEAK_PATTERNS, settled_verdict
from leakhunt.analysis.strategy_data import cpu_readings
from leakhunt.analysis.verdict import (
    JUDGED_SERIES,
    PY_BLOCKS_DECIDE_WHEN,
    MemoryJudgement,
    Verdict,
    judge_growth,
    names_python_leak,
    strategy_verdict,
)

# A settled verdict stops the run only where that saves at least this much: the projected time to the maximum
# (iterations at the pace so far, or what is left of --duration). A run that would end within a minute anyway
# runs to its end, so its verdict is the --exact one; stopping early is for the runs where time matters
# (a Mask R-CNN call per iteration: hours). It also bounds what the stop rule cannot see: a cache that fills
# for 2000 calls of 6000 looks like a leak until it is full.
MIN_TIME_SAVED_S = 60.0
# Haybittle-Peto: interim looks at p < 0.001 leave the final analysis's 5% level practically untouched.
INTERIM_CONFIDENCE = 0.999
# A verdict must be seen at this many looks in a row (one look can catch a lucky stretch).
CONSECUTIVE_LOOKS = 2
# The minimum run length: twice what any verdict needs at all, and enough readings for shape checks.
MIN_ITERATIONS_BEFORE_STOP = 100
MIN_READINGS_BEFORE_STOP = 50
# Looks are spaced geometrically: the next one once the measured iterations grew by this factor. Every look
# judges at 99.9%, so more looks barely add false findings, while a settled verdict is confirmed sooner
# (two looks in a row: 15% more iterations, not 25%).
LOOK_GROWTH = 1.15
# A "slowing" climb may be a warm-up still settling (a Keras model's first few hundred calls grow Python's
# blocks, then stop): it never settles a leak; only a steady climb does.
# ...and its rate must be steady between the looks: a warm-up's rate falls as the window grows, a leak's
# does not. The later look's slope must be within this factor of the earlier one's.
LEAK_RATE_STABILITY = 1.25
# The series the child reads (iterations.csv columns); the settle decision needs them all.
SETTLE_SERIES = {"rss": ("rss_bytes", RSS_KIND), "heap": ("heap_bytes", HEAP_KIND),
                 "py_blocks": ("py_blocks", PY_BLOCKS_KIND), "tf_current": ("tf_current_bytes", TF_ALLOCATOR_KIND)}


@dataclass(frozen=True)
class Look:
    """What one interim look saw, and which settled verdict it supports (None: not settled)."""

    measured_iterations: int
    verdict: str
    pattern: str
    deciding_series: str | None
    settles: str | None  # "leak", "flat", "plateau" or None
    why: str
    deciding_slope_per_iter: float | None = None
    # Every series that is a steady leak at this look, with its slope: a leak is settled once one series
    # leaks steadily across looks, whichever series the strategy's verdict names (RSS and the C heap both
    # see a Session-per-call leak; which one decides can change between looks).
    leak_slopes_per_iter: dict[str, float] = field(default_factory=dict)
    # ...of which these survived the forced full collections in their judged span (garbage is not a leak).
    confirmed_leaks: frozenset[str] = frozenset()
    # Some series grows like a leak: the parent asks the child for a forced full collection, so the next look
    # can tell a leak from garbage awaiting collection.
    wants_collection: bool = False
    # Whether a stop now would carry the drift flag the full run would (analysis/drift.drift_state).
    drift: DriftState = "undecided"


def _judge(iterations: pd.DataFrame, collections: pd.DataFrame | None, warmup_steps: int,
           confidence: float) -> tuple[dict[str, GrowthEstimate], dict[str, MemoryJudgement], Verdict]:
    """Every child series' estimate and judgement at `confidence`, and the strategy's memory verdict."""
    with_collections = collections is not None and not collections.empty
    estimates: dict[str, GrowthEstimate] = {}
    for series, (column, kind) in SETTLE_SERIES.items():
        x, y = iteration_series(iterations, column, warmup_steps)
        points = post_collection_points(collections, series, warmup_steps) if with_collections else None
        estimate = estimate_growth(series, x, y, kind=kind, confidence=confidence, post_points=points)
        if estimate is not None:
            estimates[series] = estimate
    judged = {series: judge_growth(estimate) for series, estimate in estimates.items()}
    judgements = with_stopped_warmup(with_retained_garbage(judged, dict(estimates)), dict(estimates))
    return estimates, judgements, strategy_verdict("completed", judgements, JUDGED_SERIES,
                                                   names_python_leak(dict(estimates)))


def _leak_judges(judgements: dict[str, MemoryJudgement]) -> list[str]:
    """The series whose leak can make the strategy a leak (Python blocks once collections confirmed them)."""
    return [series for series, judgement in judgements.items()
            if series in JUDGED_SERIES or (series == "py_blocks" and judgement.survival in PY_BLOCKS_DECIDE_WHEN)]


def _seconds_to_maximum(iterations: pd.DataFrame, warmup_steps: int, max_iterations: int,
                        max_duration_s: float | None) -> float:
    """How long the run would still take to its maximum at the pace of its measured steps so far."""
    _, _, starts = measured_latency(iterations, warmup_steps)
    starts = starts[np.isfinite(starts)]
    if starts.size < 2 or starts[-1] <= starts[0]:
        return float("inf")
    elapsed_s = float(starts[-1] - starts[0])
    remaining_s = (max_iterations - starts.size) * elapsed_s / (starts.size - 1)
    return min(remaining_s, max_duration_s - elapsed_s) if max_duration_s else remaining_s


def take_look(iterations: pd.DataFrame, warmup_steps: int, max_iterations: int,
              collections: pd.DataFrame | None = None, previous: Look | None = None,
              max_duration_s: float | None = None) -> Look | None:
    """Judge the readings so far at the interim level; None before the minimum run length.

    A verdict settles only if the final analysis (95%) on the same readings gives the same verdict: the stop is
    then never contradicted by the report of the iterations it covers. That costs a second analysis, so it is
    made only where this look could stop the run: where the `previous` look settled on the same verdict."""
    estimates, judgements, verdict = _judge(iterations, collections, warmup_steps, INTERIM_CONFIDENCE)
    rss = estimates.get("rss")
    if (rss is None or rss.last_iteration + 1 < MIN_ITERATIONS_BEFORE_STOP
            or rss.samples_judged < MIN_READINGS_BEFORE_STOP):
        return None
    measured = rss.last_iteration + 1
    settles, why = settled_verdict(verdict, estimates, judgements, max_iterations)
    if settles is not None:
        remaining_s = _seconds_to_maximum(iterations, warmup_steps, max_iterations, max_duration_s)
        if remaining_s < MIN_TIME_SAVED_S:
            settles, why = None, (f"{why}, but the maximum is only {remaining_s:.0f} s away (under "
                                  f"{MIN_TIME_SAVED_S:.0f} s): the run goes on to it")
    # The latency trend and the 95% verdict are only needed where the memory verdict settles (looks are cheap).
    drift: DriftState = "undecided"
    if settles is not None:
        drift = _latency_drift(iterations, warmup_steps, max_iterations)
        if drift == "undecided":
            settles, why = None, f"{why}, but the latency trend is not decided yet"
    if settles is not None and previous is not None and previous.settles == settles:
        final = _judge(iterations, collections, warmup_steps, CONFIDENCE_LEVEL)[2]
        if final.verdict != verdict.verdict:
            settles, why = None, (f"{verdict.verdict} at the 99.9% level, but {final.verdict} at 95% "
                                  f"({final.pattern}): not settled")
    deciding = estimates.get(verdict.deciding_series or "")
    slope = None if deciding is None or deciding.fit is None else deciding.fit.slope
    leak_slopes = {series: rate for series in _leak_judges(judgements)
                   if judgements[series].verdict == "leak" and judgements[series].pattern in LEAK_PATTERNS
                   and (rate := _leak_rate(estimates[series], judgements[series])) is not None}
    # A leak read from the post-collection level itself ("persists") is confirmed by construction.
    confirmed = frozenset(series for series in leak_slopes if judgements[series].survival == "confirmed"
                          or judgements[series].pattern == "persists")
    # Asked while anything grows like a leak or was just read as garbage: the next look needs a fresh
    # post-collection point to confirm it, or to settle the garbage as bounded.
    wants_collection = any(judgement.verdict == "leak" or judgement.pattern in ("collected", "retained")
                           for judgement in judgements.values())
    return Look(measured, verdict.verdict, verdict.pattern, verdict.deciding_series, settles, why, slope, leak_slopes,
                confirmed, wants_collection, drift)


def _leak_rate(estimate: GrowthEstimate, judgement: MemoryJudgement) -> float | None:
    """The rate a leak was read at: the post-collection level's for a leak read from it ("persists"; the regular
    readings then swing with garbage), else the regular readings' slope."""
    if judgement.pattern == "persists":
        survival = estimate.survival
        return None if survival is None else survival.post_slope_per_iter
    return None if estimate.fit is None else float(estimate.fit.slope)


def _latency_drift(iterations: pd.DataFrame, warmup_steps: int, max_iterations: int) -> DriftState:
    """The latency trend's state at this look: a run stops only once it is decided (drift or none)."""
    iteration, latency_ms, starts = measured_latency(iterations, warmup_steps)
    if iteration.size < 2:
        return "undecided"
    reference_iteration, reference_ms = iteration_series(iterations, "reference_ms", warmup_steps)
    stats = latency_stats(iteration, latency_ms, starts, 1.0, reference_iteration, reference_ms,
                          cpu_readings(iterations, warmup_steps))
    span = float(iteration[-1] - iteration[0])
    return drift_state(stats.drift, span, max_iterations - float(iteration[0]))


def _steady_rate(looks: list[Look]) -> bool:
    """One series leaked at every look, at rates within LEAK_RATE_STABILITY of each other, and its growth
    survived the forced full collections by the last look (garbage awaiting collection is not a leak)."""
    for series in looks[-1].confirmed_leaks:
        slopes = [look.leak_slopes_per_iter.get(series, 0.0) for look in looks]
        if min(slopes) > 0 and max(slopes) / min(slopes) <= LEAK_RATE_STABILITY:
            return True
    return False


class SettleTracker:
    """Keeps the looks of one strategy and says when (and why) it may stop."""

    def __init__(self, max_iterations: int):
        self.max_iterations = max_iterations
        self.looks: list[Look] = []
        self.next_look_iterations = MIN_ITERATIONS_BEFORE_STOP

    def due(self, measured_iterations: int) -> bool:
        return measured_iterations >= self.next_look_iterations

    def record(self, look: Look | None, measured_iterations: int) -> str | None:
        """Add a look; returns the stop reason once the same settled verdict held CONSECUTIVE_LOOKS times."""
        self.next_look_iterations = max(int(measured_iterations * LOOK_GROWTH), measured_iterations + 1)
        if look is None:
            return None
        self.looks.append(look)
        recent = self.looks[-CONSECUTIVE_LOOKS:]
        if len(recent) < CONSECUTIVE_LOOKS or recent[-1].settles is None:
            return None
        if any(earlier.settles != recent[-1].settles or earlier.drift != recent[-1].drift for earlier in recent):
            return None
        if recent[-1].settles == "leak" and not _steady_rate(recent):
            return None
        return (f"settled after {look.measured_iterations} of {self.max_iterations} iterations: {look.why} "
                f"({CONSECUTIVE_LOOKS} looks in a row)")
