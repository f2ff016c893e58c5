"""The named facts every verdict rule reads (one series' growth estimate), and how many more iterations decide."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.envelope import envelope_bounds, envelope_climbs, sawtooth_swing, swings
from leakhunt.analysis.leak import GrowthEstimate, count_releases, noise_floor_bytes_per_iter
from leakhunt.analysis.post_collection import live_growth
from leakhunt.analysis.robust import SlopeFit
from leakhunt.units import human_amount, human_interval, human_rate

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
# Flat by level: the growth over the run is under this share of the series' growth floor (growth below the floor
# is never a leak; a share of 0.5 left a decode loop whose RSS took one 1.2 MB allocator chunk at the end of 1000
# calls "inconclusive" in some runs and flat in others).
LEVEL_FLAT_SHARE = 1.0
# Growth has stopped when even the upper bound of the recent rate is under this share of the climb's rate.
STOPPED_MAX_FRACTION = 0.25
# Growth is "slowing" (reported with both rates) when the recent rate is under this share of the early one.
SLOWING_FRACTION = 0.5
# Projections of how many more iterations would decide look this far ahead at most.
MORE_ITERATIONS_MAX_FACTOR = 100.0
# Interval half-widths shrink ~ span^-1.5 when samples arrive at a steady rate per iteration.
CI_SHRINK_EXPONENT = 1.5


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


def required_fit(fit: SlopeFit | None, which: str) -> SlopeFit:
    """A fit the rule at hand is guaranteed (every rule after "short" has the overall fit; "stopped" and
    "slowing" have the thirds' fits): its absence would be a bug in the table's order, not a finding."""
    if fit is None:
        raise ValueError(f"no {which} fit where the verdict rules guarantee one")
    return fit


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
    def line(self) -> SlopeFit:
        """The overall fit, for conditions that run after "short" (which holds whenever there is none)."""
        return required_fit(self.fit, "overall")

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
    def judged_iterations(self) -> int:
        """How many iterations the judged readings cover (the span counts the gaps: 50 iterations span 49)."""
        return self.span + 1

    @property
    def too_short(self) -> bool:
        return self.judged_iterations < MIN_JUDGED_ITERATIONS or self.estimate.samples_judged < MIN_JUDGED_SAMPLES \
            or self.fit is None

    @property
    def garbage(self) -> bool:
        """Grew past the floor, but what survived forced full collections stays under it (post_collection.py)."""
        survival = self.estimate.survival
        return (survival is not None and survival.status == "garbage" and self.fit is not None
                and self.fit.slope > self.floor)

    @property
    def persists(self) -> bool:
        """The memory in use keeps climbing after every forced full collection (a leak under garbage's sawtooth).
        Not for RSS (it keeps freed pages). Only where a collection freed something in this series: else the points
        are ordinary readings at a few moments (a TF allocator cycling 163-209 MB with its images rose by chance)."""
        survival = self.estimate.survival
        return (survival is not None and self.estimate.series != "rss"
                and survival.most_freed >= self.estimate.granularity
                and survival.grows_steadily(self.estimate.granularity))

    @property
    def climbs_after_collections(self) -> bool:
        """Live memory climbs past the floor (post_collection.live_growth) and the slope is above the noise floor."""
        estimate = self.estimate
        return live_growth(estimate.series, estimate.survival, estimate.growth_floor) and self.line.slope > self.floor

    @property
    def has_release(self) -> bool:
        return self.estimate.release_bytes >= self.release_threshold

    @property
    def troughs_and_peaks_rise(self) -> bool:
        """Level evidence: the last quarter's trough and peak both sit clearly above the first quarter's."""
        estimate, line = self.estimate, self.line
        predicted_rise = SAWTOOTH_RISE_MIN_SHARE * line.slope * 0.75 * self.span
        needed = max(estimate.growth_floor, predicted_rise, SAWTOOTH_RISE_MIN_SHARE_OF_RELEASE * estimate.release_bytes)
        return min(estimate.trough_rise_bytes, estimate.peak_rise_bytes) > needed

    @property
    def rising_slope(self) -> bool:
        # A sawtooth fits a line badly (its interval, widened for serial correlation, is wide even when troughs and
        # peaks clearly climb): the slope must be above the floor and significantly positive, not its whole interval.
        return self.line.slope > self.floor and self.line.ci_low > 0

    @property
    def a_tooth(self) -> bool:
        """A release that is part of a sawtooth: two releases or more, or one after which the level climbs
        back by at least half of what was released. One drop that stays down is memory given back, not a tooth
        (a tf.data iterator's buffers: the heap fell 237 KiB once, early, and stayed level)."""
        if self.releases >= 2:
            return True
        levels = np.asarray(self.estimate.smoothed_levels_bytes)
        if levels.size < 2 or self.releases < 1:
            return self.releases >= 1 and levels.size < 2
        running_max = np.maximum.accumulate(levels)
        drop_at = int(np.argmax(running_max - levels))  # the deepest point below an earlier high
        return float(levels[drop_at:].max() - levels[drop_at]) >= 0.5 * self.estimate.release_bytes

    @property
    def enough_teeth(self) -> bool:
        return not self.estimate.smoothed_levels_bytes or self.releases >= SAWTOOTH_MIN_RELEASES

    @property
    def is_step(self) -> bool:
        if self.sawtooth_swing:
            return False  # a series with teeth in every eighth of the run has no single jump
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
        return self.line.ci_high < self.floor

    @property
    def swings(self) -> bool:
        """Teeth or scatter in every eighth of the run, above the floor (analysis/envelope.py)."""
        return swings(self.estimate.envelope, self.estimate.growth_floor)

    @property
    def sawtooth_swing(self) -> bool:
        """The swing piles up gradually and drops suddenly, in every eighth of the run."""
        return sawtooth_swing(self.estimate.envelope, self.estimate.growth_floor)

    @property
    def envelope_bounds(self) -> tuple[float, float] | None:
        """(lowest, highest) reading when the series swings with neither its highs nor its lows climbing."""
        return envelope_bounds(self.estimate.envelope, self.estimate.growth_floor)

    @property
    def level_scatter(self) -> bool:
        """Readings scatter in every eighth without a trend in their lows or highs, and not as a sawtooth."""
        return self.envelope_bounds is not None and not self.sawtooth_swing

    @property
    def envelope_climbs(self) -> bool:
        """A sawtooth in every eighth whose highs and lows both climb: rising, whatever its tooth width."""
        return envelope_climbs(self.estimate.envelope, self.estimate.growth_floor)

    @property
    def level_flat(self) -> bool:
        """Flat by level: the series ended less than its growth floor above where it started and never rose
        by a whole floor. A staircase of a few page steps (RSS) makes the slope's interval useless (its
        residuals look like a random walk), while the levels themselves leave no doubt."""
        estimate = self.estimate
        levels = estimate.smoothed_levels_bytes
        # Rises are what count: a level that only fell (memory given back) is flat.
        rise_above_start = (max(levels) - levels[0]) if levels else estimate.rise_bytes
        return (estimate.growth_bytes < LEVEL_FLAT_SHARE * estimate.growth_floor
                and min(estimate.rise_bytes, rise_above_start) < estimate.growth_floor)

    @property
    def above_floor(self) -> bool:
        return self.line.ci_low > self.floor

    @property
    def stopped(self) -> bool:
        # Judged on the level, not on the overall fit's interval: a climb that levels off fits a line badly,
        # so its (autocorrelation-widened) interval is wide even when the rise itself is beyond doubt.
        # Measured against the climb itself (the early third's rate, or the overall one if larger): a long flat
        # tail dilutes the overall rate, and a slow creep at its end then looks like a quarter of it (oneDNN's
        # shape cache: +230 MiB in the first fifth of 12000 calls, then +29 B/call).
        estimate, recent, early = self.estimate, self.estimate.recent_fit, self.estimate.early_fit
        climb_rate = max(self.line.slope, early.slope if early is not None else 0.0)
        return (estimate.growth_bytes > estimate.growth_floor and self.line.slope > self.floor
                and recent is not None and recent.ci_high < STOPPED_MAX_FRACTION * climb_rate)

    @property
    def growing_throughout(self) -> bool:
        """Both the first and the last third clearly grow, and the whole run grew past the floor.

        A curved climb (growth that slows) fits one line badly, which widens that line's interval; the
        thirds are each nearly straight, so their own intervals carry the evidence.
        """
        estimate, early, recent = self.estimate, self.estimate.early_fit, self.estimate.recent_fit
        return (early is not None and recent is not None and early.ci_low > 0 and recent.ci_low > 0
                and self.line.slope > self.floor and estimate.growth_bytes > estimate.growth_floor)

    @property
    def still_growing(self) -> bool:
        recent = self.estimate.recent_fit
        return (self.above_floor and recent is not None and recent.ci_low > 0) or self.growing_throughout

    @property
    def slowing(self) -> bool:
        early, recent = self.estimate.early_fit, self.estimate.recent_fit
        return (self.still_growing and early is not None and early.slope > 0
                and recent is not None and recent.slope < SLOWING_FRACTION * early.slope)

    # -- how many more iterations would decide ------------------------------------------------------
    def more_for_short(self) -> int:
        estimate = self.estimate
        needed: float = max(MIN_JUDGED_ITERATIONS - self.judged_iterations, 0)
        if estimate.samples_judged < MIN_JUDGED_SAMPLES and self.span > 0:
            needed = max(needed, MIN_JUDGED_SAMPLES * self.span / max(estimate.samples_judged, 1) - self.span)
        if self.fit is not None:
            needed = max(needed, iterations_to_decide(self.fit, max(self.span, 1), estimate.growth_floor) or 0)
        return round_up_roughly(max(needed, self.span, MIN_JUDGED_ITERATIONS))

    def more_for_teeth(self) -> int:
        return round_up_roughly(self.span * (SAWTOOTH_MIN_RELEASES + 1) / max(self.releases, 1) - self.span)


def facts_of(estimate: GrowthEstimate) -> Facts:
    span = estimate.judged_span_iterations
    release_threshold = max(RELEASE_MIN_FRACTION * estimate.rise_bytes, estimate.granularity,
                            RELEASE_MIN_SIGMAS * estimate.smooth_sigma_bytes)
    releases = count_releases(estimate.smoothed_levels_bytes, release_threshold)
    return Facts(estimate, span, estimate.fit, estimate.noise_floor_bytes_per_iter, release_threshold, releases)
