"""Verdicts: what a memory series' growth means (leak / plateau / flat / inconclusive), and the verdict of
a strategy once how its child ended (crashed / failed) is taken into account."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leakhunt.analysis.leak import GROWTH_FLOOR_BYTES, GrowthEstimate, count_releases, noise_floor_bytes_per_iter
from leakhunt.analysis.robust import SlopeFit

MEMORY_VERDICTS = ("leak", "plateau", "flat", "inconclusive")
VERDICTS = MEMORY_VERDICTS + ("crashed", "failed")
# Fewer judged iterations or samples than this say nothing about a trend (a few seconds of a fast model).
MIN_JUDGED_ITERATIONS = 50
MIN_JUDGED_SAMPLES = 10
# A drop below an earlier level of at least half the whole swing (and more than allocator granularity)
# means memory is being given back: a sawtooth is bounded unless its troughs and peaks both climb.
RELEASE_MIN_FRACTION = 0.5
# ...and deeper than this many sigmas of the smoothed level's own noise (a noisy line wobbles, too).
RELEASE_MIN_SIGMAS = 6.0
# A rising sawtooth is a leak only if its troughs and peaks each rose by at least this share of what the
# fitted slope predicts between the first and last quarter (0.75 of the span). A bounded sawtooth caught
# mid-tooth (few teeth, the first one starting low) has a steep fit but barely rising peaks.
SAWTOOTH_RISE_MIN_SHARE = 0.25
# ...and only after this many releases: with fewer teeth, the first one (often starting from the low level
# of the first model import) decides the trough rise alone. Fewer means "inconclusive", not "leak".
SAWTOOTH_MIN_RELEASES = 3
# When one jump (two adjacent bins of twenty) carries this share of the net rise, it is a step, not a trend.
STEP_MIN_FRACTION = 0.7
# Growth has stopped when even the upper bound of the recent rate is under this share of the overall rate.
STOPPED_MAX_FRACTION = 0.25
# Growth is "slowing" (reported with both rates) when the recent rate is under this share of the early one.
SLOWING_FRACTION = 0.5
# Projections of how many more iterations would decide look this far ahead at most.
MORE_ITERATIONS_MAX_FACTOR = 100.0
# Interval half-widths shrink ~ span^-1.5 when samples arrive at a steady rate per iteration.
CI_SHRINK_EXPONENT = 1.5
# Which series can make a strategy a leak; the first one present is the primary for other verdicts.
JUDGED_SERIES = ("rss", "gpu_process", "tf_current")
OUTCOME_VERDICT = {"failed": "failed", "crashed": "crashed", "hung": "crashed"}


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


def iterations_to_decide(fit: SlopeFit, span: float) -> int | None:
    """Roughly how many more iterations until the interval clears the noise floor one way or the other."""
    if span <= 0:
        return None
    half_width = max((fit.ci_high - fit.ci_low) / 2, 0.0)
    for factor in np.geomspace(1.05, MORE_ITERATIONS_MAX_FACTOR, 80):
        new_span = span * factor
        new_half = half_width * factor ** (-CI_SHRINK_EXPONENT)
        floor = noise_floor_bytes_per_iter(new_span)
        if fit.slope - new_half > floor or fit.slope + new_half < floor:
            return round_up_roughly(new_span - span)
    return None


def _kib(value: float) -> str:
    return f"{value / 1024:+.2f} KiB"


def _mib(value: float) -> str:
    return f"{value / 2**20:+.1f} MiB"


def judge_growth(estimate: GrowthEstimate | None) -> MemoryJudgement:
    """leak / plateau / flat / inconclusive for one memory series, with the reason in words."""
    if estimate is None:
        return MemoryJudgement("inconclusive", "no-data", "no memory samples after the warm-up",
                               MIN_JUDGED_ITERATIONS)
    span = estimate.judged_span_iterations
    fit = estimate.fit
    floor = estimate.noise_floor_bytes_per_iter
    if span < MIN_JUDGED_ITERATIONS or estimate.samples_judged < MIN_JUDGED_SAMPLES or fit is None:
        needed = max(MIN_JUDGED_ITERATIONS - span, 0)
        if estimate.samples_judged < MIN_JUDGED_SAMPLES and span > 0:
            # The loop outran the sampler: what is missing is wall time, i.e. iterations at this pace.
            needed = max(needed, MIN_JUDGED_SAMPLES * span / max(estimate.samples_judged, 1) - span)
        if fit is not None:
            needed = max(needed, iterations_to_decide(fit, max(span, 1)) or 0)
        needed = round_up_roughly(max(needed, span, MIN_JUDGED_ITERATIONS))
        return MemoryJudgement(
            "inconclusive", "short",
            f"too short to judge: {span} iterations and {estimate.samples_judged} samples after the warm-up "
            f"(at least {MIN_JUDGED_ITERATIONS} iterations and {MIN_JUDGED_SAMPLES} samples are needed)",
            needed,
        )
    slope_text = f"{fit.slope:+.0f} B/iter [{fit.ci_low:+.0f}, {fit.ci_high:+.0f}]"
    release_threshold = max(RELEASE_MIN_FRACTION * estimate.rise_bytes, GROWTH_FLOOR_BYTES,
                            RELEASE_MIN_SIGMAS * estimate.smooth_sigma_bytes)
    if estimate.release_bytes >= release_threshold:
        predicted_rise = SAWTOOTH_RISE_MIN_SHARE * fit.slope * 0.75 * span
        if (min(estimate.trough_rise_bytes, estimate.peak_rise_bytes) > max(GROWTH_FLOOR_BYTES, predicted_rise)
                and fit.ci_low > floor):
            releases = count_releases(estimate.smoothed_levels_bytes, release_threshold)
            if estimate.smoothed_levels_bytes and releases < SAWTOOTH_MIN_RELEASES:
                return MemoryJudgement(
                    "inconclusive", "sawtooth",
                    f"sawtooth with {releases} release(s) so far: its troughs rose by "
                    f"{_mib(estimate.trough_rise_bytes)}, but too few teeth to tell a leak from a bounded "
                    f"sawtooth ({slope_text})",
                    round_up_roughly(span * (SAWTOOTH_MIN_RELEASES + 1) / max(releases, 1) - span),
                )
            return MemoryJudgement(
                "leak", "sawtooth-rising",
                f"sawtooth whose troughs rise by {_mib(estimate.trough_rise_bytes)} and peaks by "
                f"{_mib(estimate.peak_rise_bytes)}: memory is released but not all of it ({slope_text})",
            )
        return MemoryJudgement(
            "plateau", "sawtooth",
            f"sawtooth: memory grows and is released (drops of {_mib(estimate.release_bytes)}); "
            "the level stays bounded",
        )
    if (estimate.net_rise_bytes > GROWTH_FLOOR_BYTES and not np.isnan(estimate.step_fraction)
            and estimate.step_fraction >= STEP_MIN_FRACTION):
        return MemoryJudgement(
            "plateau", "step",
            f"grew {_mib(estimate.net_rise_bytes)} in one jump ({estimate.step_fraction:.0%} of the rise), "
            "then stayed level",
        )
    if fit.ci_high < floor:
        return MemoryJudgement(
            "flat", "none",
            f"slope {slope_text} stays below the noise floor of {floor:.0f} B/iter "
            f"(allocator granularity over {span} iterations)",
        )
    if fit.ci_low > floor:
        recent = estimate.recent_fit
        early = estimate.early_fit
        if recent is not None and recent.ci_high < STOPPED_MAX_FRACTION * fit.slope:
            return MemoryJudgement(
                "plateau", "stopped",
                f"grew {_mib(estimate.growth_bytes)}, then stopped: recent rate {recent.slope:+.0f} B/iter "
                f"[{recent.ci_low:+.0f}, {recent.ci_high:+.0f}] vs {fit.slope:+.0f} B/iter overall",
            )
        if recent is not None and recent.ci_low > 0:
            if early is not None and early.slope > 0 and recent.slope < SLOWING_FRACTION * early.slope:
                return MemoryJudgement(
                    "leak", "slowing",
                    f"keeps growing, but slower: early {early.slope:+.0f} B/iter, recent {recent.slope:+.0f} "
                    f"B/iter ({slope_text} overall, {_mib(estimate.growth_bytes)} in {span} iterations)",
                )
            return MemoryJudgement(
                "leak", "linear",
                f"keeps growing at {slope_text} ({_kib(fit.slope)}/iter, {_mib(estimate.growth_bytes)} in "
                f"{span} iterations), above the noise floor of {floor:.0f} B/iter",
            )
        return MemoryJudgement(
            "inconclusive", "unclear-end",
            f"grew at {slope_text}, but whether it keeps growing is unclear from the last third",
            round_up_roughly(span),
        )
    return MemoryJudgement(
        "inconclusive", "noisy",
        f"slope {slope_text} is too noisy to tell from the noise floor of {floor:.0f} B/iter",
        iterations_to_decide(fit, span),
    )


def strategy_verdict(outcome: str, judgements: dict[str, MemoryJudgement]) -> Verdict:
    """The strategy's verdict: crashed/failed from how the child ended, else what memory says.

    Any judged series (RSS, GPU process, TF allocator) that leaks makes the strategy a leak; otherwise
    the primary series (RSS when present) decides.
    """
    present = [name for name in JUDGED_SERIES if name in judgements and judgements[name].pattern != "no-data"]
    deciding = next((name for name in present if judgements[name].verdict == "leak"), None)
    if deciding is None and present:
        deciding = present[0]
    if deciding is None:
        memory = judgements.get("rss") or MemoryJudgement("inconclusive", "no-data", "no memory samples", None)
    else:
        memory = judgements[deciding]
    verdict = OUTCOME_VERDICT.get(outcome, memory.verdict)
    series_label = f"{deciding}: " if deciding and deciding != "rss" else ""
    reason = f"{series_label}{memory.reason}"
    return Verdict(verdict, reason, memory.verdict, deciding, memory.pattern, memory.more_iterations_needed)
