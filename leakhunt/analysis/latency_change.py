"""Did the latency of B change against A over their common span, net of what the machine did?

The machine's speed moves during a run on a shared host (a neighbour on the other hyperthread slows every
cycle by up to ~40%, the host's clock moves with its other tenants), so each child's steps are read in units
of its own machine-speed reference *at the same time* (analysis/latency_local.py: the steps between two
reference readings against those readings). Two views of the same steps:
- *wall*: wall time per iteration minus the time the step thread waited for a CPU (its run-queue wait);
- *CPU* (only for a CPU-bound child: at least CPU_BOUND_MIN_SHARE of the wall clock on a CPU or waiting for
  one): process CPU time per iteration. A multi-threaded step whose workers lost time slices shows it on
  the wall clock of the step thread, not in CPU time; and its CPU time does not scale with its latency (more
  work on one of its threads adds a fraction of it), so where all threads' run-queue waits were read the
  wall view alone decides, and the threads' waits carry the machine.
The change B/A of a view pairs each interval of one run with the other run at the same iterations (a
latency that grows along the run grows alike in both), and takes the median with a 95% interval from order
statistics. A view calls B slower (faster) when the change passes the tolerance and its interval excludes
no change. The tolerance is LATENCY_MIN_CHANGE, widened by what the corrections leave uncertain: how
differently the two children were crowded off their CPUs, and how far apart their reference kernels ran
(analysis/machine_difference.py).
Past MAX_TOLERANCE, or with machines beyond correction, the answer is "not comparable" with the condition
that differs; views that disagree, or too few reference readings to correct at all, give "unclear".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from leakhunt.analysis.machine_difference import (
    is_cpu_bound,
    multi_threaded,
    shares_differ,
    threads_waits_known,
    tolerance_for,
    too_different,
)
from leakhunt.analysis.span_conditions import SpanConditions

LatencyOutcome = Literal["slower", "faster", "same", "unclear", "not comparable", "unknown"]

# Fewer intervals between reference readings than this in a run's span: no correction, "unclear".
MIN_REFERENCE_READINGS = 3
CONFIDENCE_Z = 1.96
# An uncorrected (raw) change at least this large decides on its own: a comparable machine (not "not
# comparable": a tolerance under MAX_TOLERANCE) does not double or halve a step.
UNCORRECTED_DECISIVE_RATIO = 2.0
# One run per side calls a change only from this size on: two processes of the same code on the shared host,
# both quiet, differed by up to 24% net of everything the child reads about its machine (a numpy step at 100%
# of a CPU, never waiting, both reference kernels faster in the slower one; docs/benchmarks.md, "compare under
# noise"). Smaller changes are "unclear" and the words say how to tell: repeats per side
# (analysis/repeated_latency.py).
SINGLE_RUN_PROCESS_SPREAD = 0.3


@dataclass(frozen=True)
class LevelSeries:
    """One run's latency (or CPU time per iteration) in units of its reference, interval by interval."""

    iteration: np.ndarray  # each interval's middle (measured iteration), ascending
    level: np.ndarray

    @property
    def usable(self) -> bool:
        return self.level.size >= MIN_REFERENCE_READINGS


@dataclass(frozen=True)
class View:
    """One way of reading the change B/A."""

    name: str  # "wall" or "cpu"
    raw_ratio: float  # plain B/A of the span's medians
    ratio: float  # B/A net of the machine (the raw ratio when not normalised)
    low_ratio: float
    high_ratio: float
    normalised: bool
    tolerance: float = 0.0  # the smallest change this view calls a change (relative)
    decides: bool = True

    @property
    def not_deciding_reason(self) -> str:
        return "the CPU share differed" if self.name == "wall" else "the step runs on several threads"

    @property
    def large(self) -> Literal["slower", "faster", "same"]:
        """The direction of a change at least as large as the tolerance (ignoring its interval)."""
        if self.ratio >= 1 + self.tolerance:
            return "slower"
        if self.ratio <= 1 / (1 + self.tolerance):
            return "faster"
        return "same"

    @property
    def beyond_any_machine(self) -> bool:
        """An uncorrected change of UNCORRECTED_DECISIVE_RATIO or more: no machine difference that leaves two
        runs comparable makes a step that much faster or slower (a fix that takes an op-per-call loop from
        79 ms to 0.5 ms is over before the reference kernel is read often enough to correct it)."""
        return max(self.ratio, 1 / self.ratio) >= UNCORRECTED_DECISIVE_RATIO

    @property
    def certain(self) -> bool:
        """Its 95% interval excludes no change."""
        return self.low_ratio > 1 or self.high_ratio < 1

    @property
    def says(self) -> Literal["slower", "faster", "same"]:
        return self.large if self.certain else "same"


@dataclass(frozen=True)
class LatencyChange:
    outcome: LatencyOutcome
    views: tuple[View, ...]
    words: str
    cpu_bound: bool
    not_comparable_reason: str | None = None


def median_interval(values: np.ndarray) -> tuple[float, float, float]:
    """(median, low, high): the median and its ~95% interval from order statistics (distribution-free)."""
    ordered = np.sort(values)
    count = ordered.size
    half = CONFIDENCE_Z * math.sqrt(count) / 2
    low_index = max(0, int(math.floor(count / 2 - half)))
    high_index = min(count - 1, int(math.ceil(count / 2 + half)) - 1)
    return float(np.median(ordered)), float(ordered[low_index]), float(ordered[max(high_index, low_index)])


def _log_ratios(of: LevelSeries, against: LevelSeries) -> np.ndarray:
    """ln(level of `of` / level of `against` at the same iteration), for each interval of `of` (`against`
    interpolated between its intervals: a spoiled one moves a few ratios, and their median holds)."""
    return np.log(of.level) - np.interp(of.iteration, against.iteration, np.log(against.level))


def paired_change(a: LevelSeries, b: LevelSeries) -> tuple[float, float, float]:
    """B/A with its ~95% interval, each interval of one run against the other run at the same iterations
    (a latency that grows along the run grows alike in both: pairing keeps that out of the interval)."""
    b_over_a = median_interval(_log_ratios(b, a))
    a_over_b = median_interval(_log_ratios(a, b))
    ratio = (b_over_a[0] - a_over_b[0]) / 2
    low = min(b_over_a[1], -a_over_b[2])
    high = max(b_over_a[2], -a_over_b[1])
    return math.exp(ratio), math.exp(low), math.exp(high)


def make_view(name: str, raw_a: float, raw_b: float, a: LevelSeries, b: LevelSeries, tolerance: float) -> View:
    raw = raw_b / raw_a
    if not (a.usable and b.usable):
        return View(name, raw, raw, raw, raw, False, tolerance)
    ratio, low, high = paired_change(a, b)
    return View(name, raw, ratio, low, high, True, tolerance)


def _percent(ratio: float) -> str:
    return f"{ratio - 1:+.0%}"


def view_words(view: View) -> str:
    label = "step time" if view.name == "wall" else "CPU time per iteration"
    if not view.normalised:
        return f"{label} {_percent(view.ratio)} raw"
    return (f"{label} {_percent(view.ratio)} net of the machine [{_percent(view.low_ratio)}, "
            f"{_percent(view.high_ratio)}] ({_percent(view.raw_ratio)} raw)"
            + ("" if view.decides else f", not deciding: {view.not_deciding_reason}"))


def _words(outcome: LatencyOutcome, views: tuple[View, ...], p50_a: float, p50_b: float,
           reason: str | None) -> str:
    from leakhunt.units import human_ms

    text = "; ".join(view_words(view) for view in views) + f"; median step {human_ms(p50_a)} → {human_ms(p50_b)}"
    if outcome in ("slower", "faster"):
        deciding = [view for view in views if view.decides]
        low = min(abs(view.ratio - 1) for view in deciding)
        high = max(abs(view.ratio - 1) for view in deciding)
        size = f"{low:.0%}" if round(low, 2) == round(high, 2) else f"{low:.0%}-{high:.0%}"
        if not all(view.normalised for view in deciding):
            return (f"B is {outcome} by {size} raw (too few machine-speed readings to correct for the machine, "
                    f"but no comparable machine changes a step {UNCORRECTED_DECISIVE_RATIO:g}x): {text}")
        return f"B is {outcome} by {size} net of the machine: {text}"
    if outcome == "same":
        return f"no change of {views[0].tolerance:.0%} or more net of the machine: {text}"
    return f"{outcome}: {reason}; {text}"


def decide_views(views: list[View], reason: str | None) -> tuple[LatencyOutcome, str | None]:
    """Every deciding view must see a change as large as the tolerance, in one direction, and at least one of
    them must be sure of it (its interval excludes no change); all small is "same"; anything else "unclear"."""
    if reason is not None:
        return "not comparable", reason
    deciding = [view for view in views if view.decides]
    if not all(view.normalised for view in deciding):
        if all(view.normalised or view.beyond_any_machine for view in deciding) and \
                len({view.large for view in deciding}) == 1 and deciding[0].large != "same":
            return deciding[0].large, None
        return "unclear", "too few machine-speed readings in the span to correct for the machine"
    large = {view.large for view in deciding}
    if large == {"same"}:
        return "same", None
    if len(large) == 1 and any(view.certain for view in deciding):
        return large.pop(), None
    return "unclear", "the step time and the CPU time per iteration disagree"


def set_deciding(views: list[View], pairs: list[tuple[SpanConditions, SpanConditions]]) -> None:
    """With both a wall and a CPU view, which of them decides, from every A-B pair of runs' conditions."""
    if any(shares_differ(a, b) for a, b in pairs):
        # No run-queue readings: the wall clock carries the time slices B's child lost. CPU time decides.
        views[0] = dataclasses.replace(views[0], decides=False)
    elif any(multi_threaded(a, b) for a, b in pairs) and all(threads_waits_known(a, b) for a, b in pairs):
        # Several threads' CPU time per iteration does not scale with the step's latency: 20% more work on
        # one thread of a step that keeps two busy adds ~10% of CPU. All threads' waits carry the machine.
        views[1] = dataclasses.replace(views[1], decides=False)


def within_process_spread(outcome: LatencyOutcome, views: list[View]) -> str | None:
    """Why one run per side cannot call this change (None when it can): a change net of the machine smaller
    than what two processes of the same code differ by."""
    deciding = [view for view in views if view.decides]
    if outcome not in ("slower", "faster") or not all(view.normalised for view in deciding):
        return None
    smallest = min(deciding, key=lambda view: abs(math.log(view.ratio)))
    if max(smallest.ratio, 1 / smallest.ratio) >= 1 + SINGLE_RUN_PROCESS_SPREAD:
        return None
    return (f"a change of {smallest.ratio - 1:+.0%} net of the machine is within what two processes of the same "
            f"code differ by (up to ~25% measured on a shared host); give each side as a folder of 3-5 runs "
            f"of its code to tell")


def judge_latency(p50_a: float | None, p50_b: float | None, conditions_a: SpanConditions,
                  conditions_b: SpanConditions, wall_levels: tuple[LevelSeries, LevelSeries],
                  cpu_levels: tuple[LevelSeries, LevelSeries] | None) -> LatencyChange:
    """The latency verdict of B against A over one span (see the module docstring for the method)."""
    cpu_bound = is_cpu_bound(conditions_a, conditions_b)
    if p50_a is None or p50_b is None or p50_a <= 0 or p50_b <= 0:
        return LatencyChange("unknown", (), "no latencies in the common span", cpu_bound)
    tolerance = tolerance_for(conditions_a, conditions_b)
    views = [make_view("wall", p50_a, p50_b, *wall_levels, tolerance)]
    cpu_a, cpu_b = conditions_a.cpu_ms_per_iteration, conditions_b.cpu_ms_per_iteration
    if cpu_bound and cpu_levels is not None and cpu_a and cpu_b:
        views.append(make_view("cpu", cpu_a, cpu_b, *cpu_levels, tolerance))
        set_deciding(views, [(conditions_a, conditions_b)])
    outcome, reason = decide_views(views, too_different(conditions_a, conditions_b, cpu_bound, tolerance))
    within = within_process_spread(outcome, views)
    if within is not None:
        outcome, reason = "unclear", within
    return LatencyChange(outcome, tuple(views), _words(outcome, tuple(views), p50_a, p50_b, reason), cpu_bound,
                         reason if outcome == "not comparable" else None)
