"""The per-verdict conditions of a settled verdict (--until-decided): whether the verdict an interim look sees
would, with high probability, still be the verdict at the maximum. analysis/settle.py takes the looks; the rules
behind each condition are in its module docstring and in docs/verdicts.md, "Stopping when settled"."""

from __future__ import annotations

from leakhunt.analysis.facts import SAWTOOTH_MIN_RELEASES, facts_of
from leakhunt.analysis.garbage import WARMUP_MIN_GRANULARITIES
from leakhunt.analysis.leak import GrowthEstimate
from leakhunt.analysis.post_collection import IN_USE_SERIES
from leakhunt.analysis.rules import MemoryJudgement
from leakhunt.analysis.verdict import JUDGED_SERIES, Verdict

# A bounded sawtooth is settled after one tooth more than a rising one needs to be called a leak.
SAWTOOTH_SETTLE_RELEASES = SAWTOOTH_MIN_RELEASES + 1
# Flat by level settles when the growth so far plus the recent third's rate held to the maximum, and the
# largest rise, both stay under this share of the series' growth floor (the final level rule's margin).
LEVEL_SETTLE_SHARE = 0.5
LEAK_PATTERNS = ("linear", "sawtooth-rising", "persists")
# A leak read from the post-collection level alone ("persists") settles only once that level climbed by this many
# granularities (the heap: 256 KiB): a few points can carry one small step as a climb (a Keras clone per call: the
# heap after collections rose 138-147 KiB in one jump by iteration ~4000, then stayed level to 8000).
PERSISTS_SETTLE_GRANULARITIES = WARMUP_MIN_GRANULARITIES


def _stays_below_floor(estimate: GrowthEstimate, slope_upper: float, max_span_iterations: float) -> bool:
    """Held for the whole maximum run, does the slope's upper bound stay under the series' growth floor?"""
    return max(slope_upper, 0.0) * max_span_iterations < estimate.growth_floor


def _stays_flat(estimate: GrowthEstimate, judgement: MemoryJudgement, max_iterations: int) -> bool:
    """A flat series that stays flat up to the maximum: its 99.9% upper slope held for every iteration stays
    under its floor, or (flat by level) its growth so far, extrapolated to the maximum, stays well inside
    the level rule's margin. A staircase of page steps leaves the slope's interval wide but its level flat."""
    if judgement.verdict != "flat" or estimate.fit is None:
        return False
    max_span = max_iterations - estimate.first_iteration
    if _stays_below_floor(estimate, estimate.fit.ci_high, max_span):
        return True
    recent = estimate.recent_fit
    if recent is None:
        return False
    remaining = max(max_span - estimate.judged_span_iterations, 0)
    # The growth so far plus the recent third's rate held for every remaining iteration.
    projected_growth = abs(estimate.growth_bytes) + max(recent.slope, 0.0) * remaining
    return (projected_growth < LEVEL_SETTLE_SHARE * estimate.growth_floor
            and estimate.rise_bytes < LEVEL_SETTLE_SHARE * estimate.growth_floor)


def _post_level_projection(estimate: GrowthEstimate, max_span: float) -> float | None:
    """How far the level right after forced collections would rise, at its rate so far, over `max_span` iterations;
    None without a post-collection rate."""
    survival = estimate.survival
    if survival is None or survival.post_slope_per_iter is None:
        return None
    return max(survival.post_slope_per_iter, 0.0) * max_span


def _collections_bound(estimate: GrowthEstimate, max_span: float) -> bool:
    """Forced full collections keep bringing the level back: as many post-collection points as a sawtooth needs
    teeth, and their level, held to the maximum, stays under the floor (garbage awaiting collection, not a leak).
    Teeth cut by collections at looks 15% apart have uneven sizes, so the binned levels may count few of them."""
    projected = _post_level_projection(estimate, max_span)
    return (projected is not None and estimate.survival is not None
            and estimate.survival.points_used >= SAWTOOTH_SETTLE_RELEASES and projected < estimate.growth_floor)


def _plateau_settles(estimate: GrowthEstimate, judgement: MemoryJudgement, max_span: float) -> bool:
    if judgement.pattern == "sawtooth":
        return facts_of(estimate).releases >= SAWTOOTH_SETTLE_RELEASES or _collections_bound(estimate, max_span)
    if judgement.pattern == "bounded":
        return True  # every eighth of the run swung through the whole range with a level envelope
    if judgement.pattern == "collected":
        return _collections_bound(estimate, max_span)
    after = estimate.recent_fit if judgement.pattern == "stopped" else estimate.after_step_fit
    return after is not None and _stays_below_floor(estimate, after.ci_high, max_span)


def _another_series_grows(estimates: dict[str, GrowthEstimate], judgements: dict[str, MemoryJudgement],
                          max_iterations: int) -> bool:
    """A series not judged bounded still grows at the 99.9% level, by at least its floor over the run: a
    bounded RSS sawtooth must not settle the run while the C heap climbs under it (a Keras model rebuilt per
    call: RSS released 2.95 MiB teeth while the heap grew +1.41 KiB/iter [+885, +1940]; the run settled on
    `plateau` at 297 iterations, the same code's full run is a heap leak). Garbage that full collections free
    is not growth."""
    for series, judgement in judgements.items():
        estimate = estimates.get(series)
        if series not in JUDGED_SERIES or estimate is None or estimate.fit is None:
            continue
        if judgement.verdict == "plateau" or judgement.survival == "garbage":
            continue
        if estimate.fit.ci_low > 0 and estimate.fit.slope * (max_iterations - estimate.first_iteration) \
                >= estimate.growth_floor:
            return True
    return False


def _in_use_climbs(estimates: dict[str, GrowthEstimate], max_iterations: int) -> str | None:
    """The memory in use (C heap, Python blocks) read right after forced full collections climbs at a rate that,
    held to the maximum, reaches the series' floor: a plateau read from the regular readings (garbage's sawtooth
    on top) is not bounded for good. The series' name, or None. `model.predict()` in a loop: the forced
    collections cut the heap into teeth and the run settled `plateau (sawtooth)` at 341-517 of 3000 iterations,
    while the heap after each collection rose ~1 KiB/iter (the full run: a leak)."""
    for series in IN_USE_SERIES:
        estimate = estimates.get(series)
        if estimate is None:
            continue
        projected = _post_level_projection(estimate, max_iterations - estimate.first_iteration)
        if projected is not None and projected >= estimate.growth_floor:
            return series
    return None


def _plateau_is_settled(verdict: Verdict, estimates: dict[str, GrowthEstimate],
                        judgements: dict[str, MemoryJudgement], max_iterations: int) -> bool:
    """No series leaks, and the plateau is bounded for good: the deciding series' climb stopped (or stepped)
    and projects under its floor; or, for a sawtooth, any series that is a bounded sawtooth has released
    enough teeth. glibc keeps freed memory, so RSS releases rarely while the C heap releases every tooth
    (a reset-graph run: 1-2 RSS releases, 6 heap releases in 138 iterations)."""
    if any(judgements[series].verdict == "leak" for series in judgements if series in JUDGED_SERIES):
        return False
    if _another_series_grows(estimates, judgements, max_iterations):
        return False
    if _in_use_climbs(estimates, max_iterations) is not None:
        return False
    if verdict.pattern == "retained":
        # RSS keeps garbage's pages; settled once the memory in use stays level after collections, for good.
        return all(series in estimates and _collections_bound(estimates[series],
                                                              max_iterations - estimates[series].first_iteration)
                   for series in IN_USE_SERIES)
    if verdict.pattern == "sawtooth":
        return any(_plateau_settles(estimates[series], judgement, max_iterations - estimates[series].first_iteration)
                   for series, judgement in judgements.items()
                   if series in JUDGED_SERIES and (judgement.verdict, judgement.pattern) == ("plateau", "sawtooth"))
    deciding = estimates.get(verdict.deciding_series or "")
    if deciding is None:
        return False
    return _plateau_settles(deciding, judgements[str(verdict.deciding_series)],
                            max_iterations - deciding.first_iteration)


def persists_with_margin(estimate: GrowthEstimate) -> bool:
    """The post-collection level climbed by PERSISTS_SETTLE_GRANULARITIES of the series' granularity."""
    survival = estimate.survival
    return survival is not None and survival.persistent_growth >= PERSISTS_SETTLE_GRANULARITIES * estimate.granularity


def settled_verdict(verdict: Verdict, estimates: dict[str, GrowthEstimate], judgements: dict[str, MemoryJudgement],
                     max_iterations: int) -> tuple[str | None, str]:
    """(the settled verdict this look supports or None, why) from the interim judgements."""
    if verdict.verdict == "leak" and verdict.pattern in LEAK_PATTERNS:
        deciding = estimates.get(verdict.deciding_series or "")
        if verdict.pattern == "persists" and (deciding is None or not persists_with_margin(deciding)):
            return None, (f"leak ({verdict.deciding_series}: persists), but its level after collections climbed "
                          f"by less than {PERSISTS_SETTLE_GRANULARITIES:.0f} granularities: not settled yet")
        return "leak", f"leak ({verdict.deciding_series}: {verdict.pattern}) at the 99.9% level"
    if verdict.verdict == "flat":
        # Python blocks that grow like a leak hold a flat verdict open until full collections tell garbage
        # (then they never decide) from live objects (then the verdict is a leak).
        blocks = judgements.get("py_blocks")
        if blocks is not None and blocks.verdict == "leak" and blocks.survival != "garbage":
            return None, "flat so far, but Python's live blocks grow: not yet checked against a full collection"
        open_series = [series for series, estimate in estimates.items() if series in JUDGED_SERIES
                       and not _stays_flat(estimate, judgements[series], max_iterations)]
        if not open_series:
            return "flat", ("flat: every series that can decide stays below its floor up to the maximum "
                            "(its 99.9% upper bound, or its level)")
        return None, f"flat so far, but {', '.join(open_series)} could still reach the floor by the maximum"
    if verdict.verdict == "plateau" and _plateau_is_settled(verdict, estimates, judgements, max_iterations):
        return "plateau", f"plateau ({verdict.pattern}) that stays bounded up to the maximum"
    return None, f"{verdict.verdict} ({verdict.pattern}) is not settled yet"


