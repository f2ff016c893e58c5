"""The memory verdict table, `RULES`: each row is (pattern, verdict, condition, reason). The first row whose
condition holds decides; every condition reads named facts (facts.Facts), so a row can be read, tested and
changed on its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from leakhunt.analysis.facts import (
    MIN_JUDGED_ITERATIONS,
    MIN_JUDGED_SAMPLES,
    Facts,
    facts_of,
    iterations_to_decide,
    required_fit,
    round_up_roughly,
)
from leakhunt.analysis.leak import GrowthEstimate
from leakhunt.analysis.verdict_types import MemoryVerdict, Pattern
from leakhunt.units import human_amount, human_interval


@dataclass(frozen=True)
class MemoryJudgement:
    verdict: MemoryVerdict
    pattern: Pattern
    reason: str
    more_iterations_needed: int | None = None
    # What the forced full collections said of the growth (post_collection.SurvivalStatus), None without them.
    survival: str | None = None


def _short_reason(f: Facts) -> str:
    return (f"too short to judge: {f.judged_iterations} iterations and {f.estimate.samples_judged} readings after the "
            f"warm-up (at least {MIN_JUDGED_ITERATIONS} iterations and {MIN_JUDGED_SAMPLES} readings are needed)")


def _persists_reason(f: Facts) -> str:
    survival = f.estimate.survival
    assert survival is not None and survival.post_slope_per_iter is not None  # f.persists holds
    return (f"the memory in use keeps growing: after each of {survival.points_used} full collections the level is "
            f"higher, {f.rate(survival.post_slope_per_iter)} ({f.amount(survival.persistent_growth)} over "
            f"{survival.post_iterations} iterations), under readings that swing with garbage ({f.slope_text})")


def _collected_reason(f: Facts) -> str:
    survival = f.estimate.survival
    assert survival is not None and survival.post_slope_per_iter is not None  # f.garbage holds
    freed = ""
    if survival.most_freed_iteration is not None and survival.most_freed > 0:
        freed = (f"a full collection at iteration {survival.most_freed_iteration} freed "
                 f"{human_amount(survival.most_freed, f.unit)}; ")
    after = (f"rose only {f.rate(survival.post_slope_per_iter)}" if survival.post_slope_per_iter > 0
             else "did not rise")
    return (f"grew at {f.rate(f.line.slope)} between full collections, but {freed}after them the level {after}: "
            f"garbage awaiting collection (objects in reference cycles), not a leak")


def _flat_reason(f: Facts) -> str:
    if f.below_floor:
        return f"slope {f.slope_text} stays below {f.floor_text} over {f.span} iterations"
    if f.level_flat:
        return (f"grew {f.amount(f.estimate.growth_bytes)} over {f.span} iterations (never more than "
                f"{human_amount(f.estimate.rise_bytes, f.unit)}), below its growth floor of "
                f"{human_amount(f.estimate.growth_floor, f.unit)}")
    bounds = f.envelope_bounds
    assert bounds is not None  # the row's condition: level scatter
    return (f"level: readings scatter between {human_amount(bounds[0], f.unit)} and {human_amount(bounds[1], f.unit)} "
            f"in every eighth of the run (with the input, or noise), and neither the lows nor the highs climb")


def _bounded_reason(f: Facts) -> str:
    bounds = f.envelope_bounds
    assert bounds is not None  # the row's condition
    low, high = bounds
    return (f"sawtooth: memory piles up and is released between {human_amount(low, f.unit)} and "
            f"{human_amount(high, f.unit)} in every eighth of the run, and neither the lows nor the highs climb "
            f"({f.slope_text})")


def _survival_note(f: Facts) -> str:
    """What the forced full collections add to a leak's reason."""
    survival = f.estimate.survival
    if survival is None or survival.post_slope_per_iter is None:
        return ""
    if survival.status == "partly-garbage":
        return (f"; after full collections it still grows at {f.rate(survival.post_slope_per_iter)} (the rest is "
                f"garbage that collections free)")
    if survival.status == "confirmed":
        return f"; it survives full collections ({f.rate(survival.post_slope_per_iter)} after them)"
    return ""


def _stopped_reason(f: Facts) -> str:
    recent = required_fit(f.estimate.recent_fit, "recent")
    return (f"grew {f.amount(f.estimate.growth_bytes)}, then stopped: recent rate {f.rate(recent.slope)} "
            f"{human_interval(recent.ci_low, recent.ci_high, f.unit)} vs {f.rate(f.line.slope)} overall")


def _slowing_reason(f: Facts) -> str:
    early = required_fit(f.estimate.early_fit, "early")
    recent = required_fit(f.estimate.recent_fit, "recent")
    return (f"keeps growing, but slower: early {f.rate(early.slope)}, recent {f.rate(recent.slope)} "
            f"({f.slope_text} overall, {f.amount(f.estimate.growth_bytes)} in {f.span} iterations)"
            f"{_survival_note(f)}")


@dataclass(frozen=True)
class Rule:
    pattern: Pattern
    verdict: MemoryVerdict
    condition: Callable[[Facts], bool]
    reason: Callable[[Facts], str]
    more_iterations: Callable[[Facts], int | None] = lambda facts: None
    # The rows this one relies on being above it (their cases are already decided when it is asked), by pattern:
    # "short" for every row that reads the overall fit (Facts.line), which only "short" guarantees.
    after: tuple[Pattern, ...] = ()


# The verdict table: first match wins. Read top to bottom as "if ... then"; a row that relies on rows above it
# names them in `after` (tests/unit/test_verdict_rules.py checks they are above it).
RULES: tuple[Rule, ...] = (
    Rule("short", "inconclusive", lambda f: f.too_short, _short_reason, Facts.more_for_short),
    # Only where the readings themselves do not read as a steady climb (rows "slowing" and "linear" tell that one
    # better): garbage's sawtooth hides the leak that the level after each collection shows.
    Rule("persists", "leak", lambda f: f.persists and not (f.fit is not None and f.still_growing), _persists_reason),
    Rule("collected", "plateau", lambda f: f.garbage, _collected_reason),
    Rule("sawtooth-rising", "leak",
         lambda f: ((f.has_release and f.troughs_and_peaks_rise and f.enough_teeth and f.rising_slope)
                    or (f.envelope_climbs and f.line.slope > f.floor)),
         lambda f: (f"sawtooth whose troughs rise by {f.amount(f.estimate.trough_rise_bytes)} and peaks by "
                    f"{f.amount(f.estimate.peak_rise_bytes)}: memory is released but not all of it "
                    f"({f.slope_text}){_survival_note(f)}"), after=("short",)),
    # A rising sawtooth with enough teeth and a clear slope was a leak above: what rises here is undecided.
    Rule("sawtooth", "inconclusive",
         lambda f: f.has_release and f.troughs_and_peaks_rise,
         lambda f: (f"sawtooth with {f.releases} release(s) so far: its troughs rose by "
                    f"{f.amount(f.estimate.trough_rise_bytes)}, but too few teeth or too uncertain a slope to "
                    f"tell a leak from a bounded sawtooth ({f.slope_text})"),
         Facts.more_for_teeth, after=("sawtooth-rising",)),
    # Bounded only because the rows above took every sawtooth whose troughs and peaks rise.
    Rule("sawtooth", "plateau", lambda f: f.has_release and f.a_tooth,
         lambda f: (f"sawtooth: memory grows and is released (drops of "
                    f"{human_amount(f.estimate.release_bytes, f.unit)}); the level stays bounded"),
         after=("sawtooth-rising", "sawtooth")),
    Rule("step", "plateau", lambda f: f.is_step,
         lambda f: (f"grew {f.amount(f.estimate.net_rise_bytes)} in one jump "
                    f"({min(f.estimate.step_fraction, 1.0):.0%} of the rise) near iteration "
                    f"{f.estimate.step_iteration}, level before and after")),
    Rule("none", "flat", lambda f: (f.below_floor or f.level_flat or f.level_scatter) and not f.sawtooth_swing,
         _flat_reason, after=("short",)),
    Rule("stopped", "plateau", lambda f: f.stopped, _stopped_reason, after=("short",)),
    # A climb that stopped also grew slower at the end: "stopped" decides it first.
    Rule("slowing", "leak", lambda f: f.slowing, _slowing_reason, after=("short", "stopped")),
    # Every slowing climb also still grows: "slowing" must come first to be named.
    Rule("linear", "leak", lambda f: f.still_growing or f.climbs_after_collections,
         lambda f: (f"keeps growing at {f.slope_text} ({f.amount(f.estimate.growth_bytes)} in {f.span} "
                    f"iterations), above {f.floor_text}{_survival_note(f)}"), after=("short", "slowing")),
    Rule("bounded", "plateau", lambda f: f.envelope_bounds is not None and f.sawtooth_swing, _bounded_reason),
    # Its reason ("the last third does not clearly grow") holds because "linear" took the ones that do.
    Rule("unclear-end", "inconclusive", lambda f: f.above_floor,
         lambda f: f"grew at {f.slope_text}, but whether it keeps growing is unclear from the last third",
         lambda f: round_up_roughly(f.span), after=("short", "linear")),
    Rule("noisy", "inconclusive", lambda f: True,
         lambda f: f"slope {f.slope_text} is too noisy to tell from {f.floor_text}",
         lambda f: iterations_to_decide(f.line, f.span, f.estimate.growth_floor), after=("short", "unclear-end")),
)


def judge_growth(estimate: GrowthEstimate | None) -> MemoryJudgement:
    """leak / plateau / flat / inconclusive for one memory series, with the reason in words."""
    if estimate is None:
        return MemoryJudgement("inconclusive", "no-data", "no memory readings after the warm-up",
                               MIN_JUDGED_ITERATIONS)
    facts = facts_of(estimate)
    survival = None if estimate.survival is None else estimate.survival.status
    for rule in RULES:
        if rule.condition(facts):
            return MemoryJudgement(rule.verdict, rule.pattern, rule.reason(facts), rule.more_iterations(facts),
                                   survival)
    raise AssertionError("the last rule always matches")
