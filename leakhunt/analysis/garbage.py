"""RSS that grew with garbage, while the memory in use did not: a plateau, not a leak.

Full collections free garbage (objects in reference cycles) from the C heap and from Python's blocks, but the
pages it held mostly stay in RSS: freed Python arenas and heap chunks are kept for reuse, and each new peak of
garbage can leave RSS a little higher (a Keras model cloned per call: RSS after every collection rose 2.7 -> 12 MB
over 8000 calls while the heap in use stayed within 0.2 MB and Python's live blocks within 1000). So where the
forced collections kept freeing garbage and the memory in use after them (C heap, Python blocks) stays level,
RSS's growth is the allocator keeping garbage's pages, bounded by the garbage's peak.

The same RSS growth with the heap or the live blocks rising after collections is a leak (this rule does not
apply); a leak in memory the heap and the block count cannot see (pages mapped by hand) while garbage is also
freed would be read as retained: the price of telling garbage from leaks on RSS at all.
"""

from __future__ import annotations

from leakhunt.analysis.leak import GrowthEstimate
from leakhunt.analysis.post_collection import IN_USE_SERIES
from leakhunt.analysis.rules import MemoryJudgement
from leakhunt.units import human_amount, human_rate

# Post-collection points each of them needs (the baseline and two more) before their level can vouch for RSS.
IN_USE_MIN_POINTS = 3
# ...over nearly RSS's own judged span (its start may come this share of the span later).
SAME_SPAN_SLACK = 0.1
# RSS judgements this may replace: growth read as a leak, or left undecided by its shape.
REPLACEABLE = ("leak", "inconclusive")


def _in_use_level(estimate: GrowthEstimate | None, judgement: MemoryJudgement | None, rss: GrowthEstimate) -> bool:
    """The series' level after collections stays under its growth floor over the span (and is no leak), judged
    over (nearly) RSS's span: a heap whose warm-up climb was cut off says nothing about RSS's climb over it."""
    if estimate is None or judgement is None or estimate.survival is None or judgement.verdict == "leak":
        return False
    if estimate.first_iteration > rss.first_iteration + SAME_SPAN_SLACK * rss.judged_span_iterations:
        return False
    survival = estimate.survival
    return (survival.post_slope_per_iter is not None and survival.points_used >= IN_USE_MIN_POINTS
            and max(survival.post_slope_per_iter, 0.0) * estimate.judged_span_iterations < estimate.growth_floor)


def _freed_garbage(estimate: GrowthEstimate | None) -> bool:
    return (estimate is not None and estimate.survival is not None
            and estimate.survival.most_freed >= estimate.granularity)


def _retained_reason(rss: GrowthEstimate, estimates: dict[str, GrowthEstimate | None]) -> str:
    parts = []
    for series in IN_USE_SERIES:
        estimate = estimates[series]
        assert estimate is not None and estimate.survival is not None  # checked by the caller
        label = "C heap" if series == "heap" else "Python blocks"
        survival = estimate.survival
        parts.append(f"{label} {human_rate(survival.post_slope_per_iter or 0.0, estimate.unit)} after collections, "
                     f"which freed up to {human_amount(survival.most_freed, estimate.unit)}")
    fit = rss.fit
    slope = "" if fit is None else f" ({human_rate(fit.slope, rss.unit)})"
    return (f"grew {human_amount(rss.growth_bytes, rss.unit, signed=True)}{slope}, but the memory in use did not "
            f"({'; '.join(parts)}): the allocator keeps the pages that garbage awaiting collection held; bounded "
            f"by the garbage's peak, not a leak")


def with_retained_garbage(judgements: dict[str, MemoryJudgement],
                          estimates: dict[str, GrowthEstimate | None]) -> dict[str, MemoryJudgement]:
    """The judgements, with RSS's growth read as retained garbage where the evidence says so (module doc)."""
    rss, rss_estimate = judgements.get("rss"), estimates.get("rss")
    # Not a sawtooth with too few teeth: its releases are the allocator giving memory back, and the C heap
    # tells that story better (strategy_verdict's overrides).
    if (rss is None or rss_estimate is None or rss.verdict not in REPLACEABLE
            or rss.pattern in ("short", "no-data", "sawtooth")
            or rss_estimate.growth_bytes < rss_estimate.growth_floor):  # nothing past the floor to explain
        return judgements
    if not all(_in_use_level(estimates.get(series), judgements.get(series), rss_estimate) for series in IN_USE_SERIES):
        return judgements
    if not any(_freed_garbage(estimates.get(series)) for series in IN_USE_SERIES):
        return judgements
    retained = MemoryJudgement("plateau", "retained", _retained_reason(rss_estimate, estimates), None, rss.survival)
    return {**judgements, "rss": retained}


# A warm-up in the memory in use: the C heap or Python's blocks after collections climbed by at least this many
# times their granularity (the heap: 256 KiB), then stopped. Under it, an allocator's warm-up that RSS shows
# (+0.4-1 MiB in the first thousand calls of a flat decode or dataset loop) is flat.
WARMUP_MIN_GRANULARITIES = 4.0


def _warmup_reason(rss: GrowthEstimate, series: str, estimate: GrowthEstimate) -> str:
    survival = estimate.survival
    assert survival is not None
    label = "the C heap" if series == "heap" else "Python's blocks"
    return (f"grew {human_amount(rss.growth_bytes, rss.unit, signed=True)}, and the memory in use ({label} after full "
            f"collections) climbed {human_amount(survival.climb, estimate.unit)} early, then stopped: a warm-up "
            f"(caches, traces or kernels filling), bounded")


def with_stopped_warmup(judgements: dict[str, MemoryJudgement],
                        estimates: dict[str, GrowthEstimate | None]) -> dict[str, MemoryJudgement]:
    """RSS that is flat or undecided, while the memory in use after collections climbed clearly and stopped: a
    plateau (a retracing tf.function that generalises after a few lengths: the heap +0.86 MiB, RSS +1.8 MiB,
    under RSS's floor). A leak anywhere, or growth still going on, leaves the judgements as they are."""
    rss, rss_estimate = judgements.get("rss"), estimates.get("rss")
    if rss is None or rss_estimate is None or rss.verdict not in ("flat", "inconclusive") or rss.pattern == "short":
        return judgements
    if any(judgement.verdict == "leak" for judgement in judgements.values()):
        return judgements
    for series in IN_USE_SERIES:
        estimate = estimates.get(series)
        if (estimate is not None and estimate.survival is not None
                and estimate.survival.stopped_climbing(WARMUP_MIN_GRANULARITIES * estimate.granularity)):
            warmup = MemoryJudgement("plateau", "stopped", _warmup_reason(rss_estimate, series, estimate), None,
                                     rss.survival)
            return {**judgements, "rss": warmup}
    return judgements
