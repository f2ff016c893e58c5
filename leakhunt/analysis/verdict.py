"""Verdicts: what a memory series' growth means (leak / plateau / flat / inconclusive), and the verdict of
a strategy once how its child ended (crashed / failed) is taken into account.

The memory verdict is one table, `RULES`: each row is (pattern, verdict, condition, reason). The first row
whose condition holds decides; every condition reads named facts (`Facts`) computed once from the
estimate, so a row can be read, tested and changed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from leakhunt.analysis.leak import GrowthEstimate, count_releases, noise_floor_bytes_per_iter
from leakhunt.analysis.robust import SlopeFit
from leakhunt.units import human_amount, human_interval, human_rate

MEMORY_VERDICTS = ("leak", "plateau", "flat", "inconclusive")
VERDICTS = MEMORY_VERDICTS + ("crashed", "failed")
# Fewer judged iterations or points than this say nothing about a trend (a few seconds of a fast model).
MIN_JUDGED_ITERATIONS = 50
MIN_JUDGED_SAMPLES = 10
# A drop below an earlier level of at least half the whole swing (and more than the series' growth floor)
# means memory is being given back: a sawtooth is bounded unless its troughs and peaks both climb.
RELEASE_MIN_FRACTION = 0.5
# ...and deeper than this many sigmas of the smoothed level's own noise (a noisy line wobbles, too).
RELEASE_MIN_SIGMAS = 6.0
# A rising sawtooth is a leak only if its troughs and peaks each rose by at least this share of what the
# fitted slope predicts between the first and last quarter (0.75 of the span). A bounded sawtooth caught
# mid-tooth (few teeth, the first one starting low) has a steep fit but barely rising peaks.
SAWTOOTH_RISE_MIN_SHARE = 0.25
# ...and by at least this share of the release depth: peaks that creep up by 2 MiB under 800 MiB teeth
# are a bounded sawtooth's jitter, not a climb.
SAWTOOTH_RISE_MIN_SHARE_OF_RELEASE = 0.05
# ...and only after this many releases: with fewer teeth, the first one (often starting from the low level
# of the first model import) decides the trough rise alone. Fewer means "inconclusive", not "leak".
SAWTOOTH_MIN_RELEASES = 3
# When one jump (two adjacent bins of twenty) carries this share of the net rise, and the series before
# and after it is not growing, it is a step, not a trend. Above STEP_MAX_FRACTION it is not one jump.
STEP_MIN_FRACTION = 0.7
STEP_MAX_FRACTION = 1.15
# Flat by level: the growth over the run is under this share of the series' growth floor.
LEVEL_FLAT_SHARE = 0.5
# Growth has stopped when even the upper bound of the recent rate is under this share of the overall rate.
STOPPED_MAX_FRACTION = 0.25
# Growth is "slowing" (reported with both rates) when the recent rate is under this share of the early one.
SLOWING_FRACTION = 0.5
# Projections of how many more iterations would decide look this far ahead at most.
MORE_ITERATIONS_MAX_FACTOR = 100.0
# Interval half-widths shrink ~ span^-1.5 when samples arrive at a steady rate per iteration.
CI_SHRINK_EXPONENT = 1.5
# Which series can make a strategy a leak, in the order they are named as deciding; "rss" (the child's
# iteration-aligned RSS, else the parent's samples) is the primary series for every other verdict.
# Python's block count is evidence, not a judge: it includes cyclic garbage waiting for a full collection
# (a finalized TF1 session.run leaves ~1 block per call until gen-2 collects it, which looked like a steady
# 1 block/iter "leak" over 2000 calls); the `python_references` hint reads it instead.
JUDGED_SERIES = ("rss", "heap", "gpu_process", "tf_current")
OUTCOME_VERDICT = {"failed": "failed", "crashed": "crashed", "hung": "crashed"}
# When RSS is flat, these (verdict, pattern) of a finer series (C heap, Python blocks, ...) decide instead.
FINER_SERIES_OVERRIDES = (("plateau", "sawtooth"), ("inconclusive", "unclear-end"))


@dataclass(frozen=True)
class MemoryJudgement:
    verdict: str
    pattern: str  # linear, slowing, step, stopped, sawtooth, sawtooth-rising, none, noisy, short, no-data
    reason: str
    more_iterations_needed: int | None = None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    memory_verdict: str
    deciding_series: str | None
    pattern: str
    more_iterations_needed: int | None


def round_up_roughly(value: float) -> int:
    """2 significant digits, rounded up: the answer is "roughly this many", not a promise."""
    if value <= 0:
        return 0
    magnitude = 10 ** max(int(np.floor(np.log10(value))) - 1, 0)
    return int(np.ceil(value / magnitude) * magnitude)


def iterations_to_decide(fit: SlopeFit, span: float, growth_floor: float | None = None) -> int | None:
    """Roughly how many more iterations until the interval clears the noise floor one way or the other."""
    if span <= 0:
        return None
    half_width = max((fit.ci_high - fit.ci_low) / 2, 0.0)
    for factor in np.geomspace(1.05, MORE_ITERATIONS_MAX_FACTOR, 80):
        new_span = span * factor
        new_half = half_width * factor ** (-CI_SHRINK_EXPONENT)
        floor = (noise_floor_bytes_per_iter(new_span) if growth_floor is None
                 else noise_floor_bytes_per_iter(new_span, growth_floor))
        if fit.slope - new_half > floor or fit.slope + new_half < floor:
            return round_up_roughly(new_span - span)
    return None


@dataclass(frozen=True)
class Facts:
    """Everything the rules read, computed once from one series' estimate."""

    estimate: GrowthEstimate
    span: int
    fit: SlopeFit | None
    floor: float
    release_threshold: float
    releases: int

    @property
    def unit(self) -> str:
        return self.estimate.unit

    def rate(self, value: float) -> str:
        return human_rate(value, self.unit)

    def amount(self, value: float) -> str:
        return human_amount(value, self.unit, signed=True)

    @property
    def slope_text(self) -> str:
        fit = self.fit
        if fit is None:
            return "-"
        return f"{self.rate(fit.slope)} {human_interval(fit.ci_low, fit.ci_high, self.unit)}"

    @property
    def floor_text(self) -> str:
        return f"the noise floor of {self.rate(self.floor)}"

    # -- conditions ---------------------------------------------------------------------------------
    @property
    def too_short(self) -> bool:
        return (self.span < MIN_JUDGED_ITERATIONS or self.estimate.samples_judged < MIN_JUDGED_SAMPLES
                or self.fit is None)

    @property
    def has_release(self) -> bool:
        return self.estimate.release_bytes >= self.release_threshold

    @property
    def troughs_and_peaks_rise(self) -> bool:
        """Level evidence: the last quarter's trough and peak both sit clearly above the first quarter's."""
        estimate, fit = self.estimate, self.fit
        predicted_rise = SAWTOOTH_RISE_MIN_SHARE * fit.slope * 0.75 * self.span
        needed = max(estimate.growth_floor, predicted_rise, SAWTOOTH_RISE_MIN_SHARE_OF_RELEASE * estimate.release_bytes)
        return min(estimate.trough_rise_bytes, estimate.peak_rise_bytes) > needed

    @property
    def rising_slope(self) -> bool:
        # A sawtooth fits a line badly, so that line's interval (widened for the residuals' serial
        # correlation) is wide even when troughs and peaks clearly climb: the slope must be above the floor
        # and significantly positive, not its whole interval above the floor.
        return self.fit.slope > self.floor and self.fit.ci_low > 0

    @property
    def enough_teeth(self) -> bool:
        return not self.estimate.smoothed_levels_bytes or self.releases >= SAWTOOTH_MIN_RELEASES

    @property
    def is_step(self) -> bool:
        estimate = self.estimate
        fraction = estimate.step_fraction
        if (estimate.net_rise_bytes <= estimate.growth_floor or np.isnan(fraction)
                or not STEP_MIN_FRACTION <= fraction <= STEP_MAX_FRACTION):
            return False
        # The rest must be level: a climb that also grows before or after the jump is a trend in chunks.
        return all(part is None or part.ci_low <= self.floor
                   for part in (estimate.before_step_fit, estimate.after_step_fit))

    @property
    def below_floor(self) -> bool:
        return self.fit.ci_high < self.floor

    @property
    def level_flat(self) -> bool:
        """Flat by level: the series ended within half its growth floor of where it started and never rose
        by a whole floor. A staircase of a few page steps (RSS) makes the slope's interval useless (its
        residuals look like a random walk), while the levels themselves leave no doubt."""
        estimate = self.estimate
        return (abs(estimate.growth_bytes) < LEVEL_FLAT_SHARE * estimate.growth_floor
                and estimate.rise_bytes < estimate.growth_floor)

    @property
    def above_floor(self) -> bool:
        return self.fit.ci_low > self.floor

    @property
    def stopped(self) -> bool:
        # Judged on the level, not on the overall fit's interval: a climb that levels off fits a line badly,
        # so its (autocorrelation-widened) interval is wide even when the rise itself is beyond doubt.
        estimate, recent = self.estimate, self.estimate.recent_fit
        return (estimate.growth_bytes > estimate.growth_floor and self.fit.slope > self.floor
                and recent is not None and recent.ci_high < STOPPED_MAX_FRACTION * self.fit.slope)

    @property
    def growing_throughout(self) -> bool:
        """Both the first and the last third clearly grow, and the whole run grew past the floor.

        A curved climb (growth that slows) fits one line badly, which widens that line's interval; the
        thirds are each nearly straight, so their own intervals carry the evidence.
        """
        estimate, early, recent = self.estimate, self.estimate.early_fit, self.estimate.recent_fit
        return (early is not None and recent is not None and early.ci_low > 0 and recent.ci_low > 0
                and self.fit.slope > self.floor and estimate.growth_bytes > estimate.growth_floor)

    @property
    def still_growing(self) -> bool:
        recent = self.estimate.recent_fit
        return (self.above_floor and recent is not None and recent.ci_low > 0) or self.growing_throughout

    @property
    def slowing(self) -> bool:
        early, recent = self.estimate.early_fit, self.estimate.recent_fit
        return (self.still_growing and early is not None and early.slope > 0
                and recent.slope < SLOWING_FRACTION * early.slope)

    # -- how many more iterations would decide ------------------------------------------------------
    def more_for_short(self) -> int:
        estimate = self.estimate
        needed = max(MIN_JUDGED_ITERATIONS - self.span, 0)
        if estimate.samples_judged < MIN_JUDGED_SAMPLES and self.span > 0:
            needed = max(needed, MIN_JUDGED_SAMPLES * self.span / max(estimate.samples_judged, 1) - self.span)
        if self.fit is not None:
            needed = max(needed, iterations_to_decide(self.fit, max(self.span, 1), estimate.growth_floor) or 0)
        return round_up_roughly(max(needed, self.span, MIN_JUDGED_ITERATIONS))

    def more_for_teeth(self) -> int:
        return round_up_roughly(self.span * (SAWTOOTH_MIN_RELEASES + 1) / max(self.releases, 1) - self.span)


def _short_reason(f: Facts) -> str:
    return (f"too short to judge: {f.span} iterations and {f.estimate.samples_judged} readings after the "
            f"warm-up (at least {MIN_JUDGED_ITERATIONS} iterations and {MIN_JUDGED_SAMPLES} readings are needed)")


def _stopped_reason(f: Facts) -> str:
    recent = f.estimate.recent_fit
    return (f"grew {f.amount(f.estimate.growth_bytes)}, then stopped: recent rate {f.rate(recent.slope)} "
            f"{human_interval(recent.ci_low, recent.ci_high, f.unit)} vs {f.rate(f.fit.slope)} overall")


def _slowing_reason(f: Facts) -> str:
    early, recent = f.estimate.early_fit, f.estimate.recent_fit
    return (f"keeps growing, but slower: early {f.rate(early.slope)}, recent {f.rate(recent.slope)} "
            f"({f.slope_text} overall, {f.amount(f.estimate.growth_bytes)} in {f.span} iterations)")


@dataclass(frozen=True)
class Rule:
    pattern: str
    verdict: str
    condition: Callable[[Facts], bool]
    reason: Callable[[Facts], str]
    more_iterations: Callable[[Facts], int | None] = lambda facts: None


# The verdict table: first match wins. Read top to bottom as "if ... then".
RULES: tuple[Rule, ...] = (
    Rule("short", "inconclusive", lambda f: f.too_short, _short_reason, Facts.more_for_short),
    Rule("sawtooth-rising", "leak",
         lambda f: f.has_release and f.troughs_and_peaks_rise and f.rising_slope and f.enough_teeth,
         lambda f: (f"sawtooth whose troughs rise by {f.amount(f.estimate.trough_rise_bytes)} and peaks by "
                    f"{f.amount(f.estimate.peak_rise_bytes)}: memory is released but not all of it "
                    f"({f.slope_text})")),
    Rule("sawtooth", "inconclusive",
         lambda f: f.has_release and f.troughs_and_peaks_rise,
         lambda f: (f"sawtooth with {f.releases} release(s) so far: its troughs rose by "
                    f"{f.amount(f.estimate.trough_rise_bytes)}, but too few teeth or too uncertain a slope to "
                    f"tell a leak from a bounded sawtooth ({f.slope_text})"),
         Facts.more_for_teeth),
    Rule("sawtooth", "plateau", lambda f: f.has_release,
         lambda f: (f"sawtooth: memory grows and is released (drops of "
                    f"{human_amount(f.estimate.release_bytes, f.unit)}); the level stays bounded")),
    Rule("step", "plateau", lambda f: f.is_step,
         lambda f: (f"grew {f.amount(f.estimate.net_rise_bytes)} in one jump "
                    f"({min(f.estimate.step_fraction, 1.0):.0%} of the rise) near iteration "
                    f"{f.estimate.step_iteration}, level before and after")),
    Rule("none", "flat", lambda f: f.below_floor or f.level_flat,
         lambda f: (f"slope {f.slope_text} stays below {f.floor_text} over {f.span} iterations" if f.below_floor
                    else f"grew {f.amount(f.estimate.growth_bytes)} over {f.span} iterations (never more than "
                         f"{human_amount(f.estimate.rise_bytes, f.unit)}), well below its growth floor of "
                         f"{human_amount(f.estimate.growth_floor, f.unit)}")),
    Rule("stopped", "plateau", lambda f: f.stopped, _stopped_reason),
    Rule("slowing", "leak", lambda f: f.slowing, _slowing_reason),
    Rule("linear", "leak", lambda f: f.still_growing,
         lambda f: (f"keeps growing at {f.slope_text} ({f.amount(f.estimate.growth_bytes)} in {f.span} "
                    f"iterations), above {f.floor_text}")),
    Rule("unclear-end", "inconclusive", lambda f: f.above_floor,
         lambda f: f"grew at {f.slope_text}, but whether it keeps growing is unclear from the last third",
         lambda f: round_up_roughly(f.span)),
    Rule("noisy", "inconclusive", lambda f: True,
         lambda f: f"slope {f.slope_text} is too noisy to tell from {f.floor_text}",
         lambda f: iterations_to_decide(f.fit, f.span, f.estimate.growth_floor)),
)


def facts_of(estimate: GrowthEstimate) -> Facts:
    span = estimate.judged_span_iterations
    release_threshold = max(RELEASE_MIN_FRACTION * estimate.rise_bytes, estimate.granularity,
                            RELEASE_MIN_SIGMAS * estimate.smooth_sigma_bytes)
    releases = count_releases(estimate.smoothed_levels_bytes, release_threshold)
    return Facts(estimate, span, estimate.fit, estimate.noise_floor_bytes_per_iter, release_threshold, releases)


def judge_growth(estimate: GrowthEstimate | None) -> MemoryJudgement:
    """leak / plateau / flat / inconclusive for one memory series, with the reason in words."""
    if estimate is None:
        return MemoryJudgement("inconclusive", "no-data", "no memory readings after the warm-up",
                               MIN_JUDGED_ITERATIONS)
    facts = facts_of(estimate)
    for rule in RULES:
        if rule.condition(facts):
            return MemoryJudgement(rule.verdict, rule.pattern, rule.reason(facts), rule.more_iterations(facts))
    raise AssertionError("the last rule always matches")


SERIES_LABELS = {"heap": "C heap", "py_blocks": "Python blocks", "gpu_process": "GPU (process)",
                 "gpu_used": "GPU (device)", "tf_current": "TF allocator", "rss_parent": "RSS (parent samples)"}


def strategy_verdict(outcome: str, judgements: dict[str, MemoryJudgement],
                     judged_series: tuple[str, ...] = JUDGED_SERIES) -> Verdict:
    """The strategy's verdict: crashed/failed from how the child ended, else what memory says.

    Any judged series (RSS, C heap, Python blocks, GPU, TF allocator) that leaks makes the strategy a
    leak (the byte-precise heap sees leaks far below RSS's page-and-arena floor); otherwise the primary
    series (RSS) decides.
    """
    present = [name for name in judged_series if name in judgements and judgements[name].pattern != "no-data"]
    deciding = next((name for name in present if judgements[name].verdict == "leak"), None)
    if deciding is None and present:
        deciding = present[0]
        primary = (judgements[deciding].verdict, judgements[deciding].pattern)
        if primary == ("flat", "none") or primary == ("inconclusive", "sawtooth"):
            # RSS moves in pages and arenas; a finer series can see what hides under its floor: a bounded
            # sawtooth (releases are positive evidence: plateau), or growth above its own floor whose end is
            # unclear (flat would hide it: inconclusive). A finer series' warm-up or noise does not count.
            # Where RSS is a sawtooth with too few teeth (glibc keeps freed memory, so RSS releases rarely),
            # a C heap that releases what it takes, tooth after tooth, shows the memory in use is bounded.
            allowed = FINER_SERIES_OVERRIDES if primary[0] == "flat" else (("plateau", "sawtooth"),)
            finer = next((name for name in present[1:] if (judgements[name].verdict, judgements[name].pattern)
                          in allowed), None)
            deciding = finer or deciding
    if deciding is None:
        memory = judgements.get("rss") or MemoryJudgement("inconclusive", "no-data", "no memory readings", None)
    else:
        memory = judgements[deciding]
    verdict = OUTCOME_VERDICT.get(outcome, memory.verdict)
    series_label = f"{SERIES_LABELS.get(deciding, deciding)}: " if deciding and deciding != "rss" else ""
    reason = f"{series_label}{memory.reason}"
    return Verdict(verdict, reason, memory.verdict, deciding, memory.pattern, memory.more_iterations_needed)
