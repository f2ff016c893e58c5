"""Did the latency of B change against A over their common span, net of what the machine did?

The machine's speed moves during a run on a shared host (a neighbour on the other hyperthread slows every
cycle by up to ~40%, the host's clock moves with its other tenants), so each child's latency is read in
units of its own machine-speed reference *at the same time*: every reference reading is paired with the
steps around it (from halfway after the previous reading to halfway to the next), and the run's level is the
median of those local ratios. Two views of the same steps:
- *wall*: the local median step latency over the reading;
- *CPU* (only for a CPU-bound child: at least CPU_BOUND_MIN_SHARE of a CPU per wall second in either run):
  the CPU time per iteration there. A step that loses time slices to a neighbour takes longer on the wall
  clock, not in CPU time.
The change B/A of a view is the ratio of the two runs' levels, with a 95% interval from the order
statistics of each run's local ratios. A view calls B slower (faster) when the change is at least
LATENCY_MIN_CHANGE and its interval excludes no change. For a CPU-bound child whose CPU share differs
between the runs (by more than SHARE_TOLERANCE), the wall view carries the lost time slices and the CPU
view alone decides; otherwise both views must agree. "Not comparable" when the machines differ beyond what
this carries (a CPU-bound child that got less than half the CPU it got in the other run, reference kernels
more than 1.5x apart, or views that disagree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from leakhunt.analysis.span_conditions import SpanConditions

LatencyOutcome = Literal["slower", "faster", "same", "not comparable", "unknown"]

# The smallest change called a change. Two runs of one command on the shared 2-core host, each net of its
# reference, moved by up to ~8% (docs/benchmarks.md, "compare under noise"); a 20% slower step must show.
LATENCY_MIN_CHANGE = 0.10
# The child is CPU-bound when it used at least this much CPU per wall second in either run (as drift.py).
CPU_BOUND_MIN_SHARE = 0.6
# CPU shares within this factor of each other count as the same machine share (both views decide).
SHARE_TOLERANCE = 1.15
# Past these, the two runs' machines are too different for any correction to carry: "not comparable".
# A step thread that waited for a CPU this much more of the time than in the other run...
MAX_WAIT_SHARE_DIFFERENCE = 0.5
# ...or (runs without run-queue readings) a CPU-bound child that got less than this share of the CPU it got
# in the other run...
MIN_CPU_SHARE_RATIO = 0.5
MAX_REFERENCE_RATIO = 1.5
# Fewer intervals between reference readings than this in a run's span: no normalisation, the raw ratio.
MIN_REFERENCE_READINGS = 5
CONFIDENCE_Z = 1.96


@dataclass(frozen=True)
class RunLevel:
    """One run's latency (or CPU time per iteration) in units of its reference, over the span."""

    level: float  # median of the local ratios (raw median when not normalised)
    low: float  # 95% interval of that median (order statistics)
    high: float
    readings: int  # local ratios behind it (0: not normalised)


@dataclass(frozen=True)
class View:
    """One way of reading the change B/A."""

    name: str  # "wall" or "cpu"
    raw_ratio: float  # plain B/A of the span's medians
    ratio: float  # B/A net of the machine (the raw ratio when not normalised)
    low_ratio: float
    high_ratio: float
    normalised: bool
    decides: bool = True

    @property
    def says(self) -> Literal["slower", "faster", "same"]:
        if self.ratio >= 1 + LATENCY_MIN_CHANGE and self.low_ratio > 1:
            return "slower"
        if self.ratio <= 1 / (1 + LATENCY_MIN_CHANGE) and self.high_ratio < 1:
            return "faster"
        return "same"


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


def run_level(levels: list[float], raw_value: float) -> RunLevel:
    """The run's level from its intervals' levels (the raw value, not normalised, when they are too few)."""
    values = np.array([level for level in levels if np.isfinite(level) and level > 0])
    if values.size < MIN_REFERENCE_READINGS:
        return RunLevel(raw_value, raw_value, raw_value, 0)
    level, low, high = median_interval(values)
    return RunLevel(level, low, high, int(values.size))


def make_view(name: str, raw_a: float, raw_b: float, a: RunLevel, b: RunLevel) -> View:
    normalised = a.readings > 0 and b.readings > 0
    if not normalised:
        ratio = raw_b / raw_a
        return View(name, ratio, ratio, ratio, ratio, False)
    return View(name, raw_b / raw_a, b.level / a.level, b.low / a.high, b.high / a.low, True)


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b and a > 0 and b > 0 else None


def is_cpu_bound(a: SpanConditions, b: SpanConditions) -> bool:
    """At least CPU_BOUND_MIN_SHARE of the wall clock on a CPU or waiting for one, in either run."""
    if a.cpu_share is None or b.cpu_share is None:
        return False
    return max(a.cpu_share + (a.runqueue_wait_share or 0.0),
               b.cpu_share + (b.runqueue_wait_share or 0.0)) >= CPU_BOUND_MIN_SHARE


def shares_differ(a: SpanConditions, b: SpanConditions) -> bool:
    """Without run-queue readings the wall view cannot take the lost time slices out: the CPU shares tell."""
    if a.runqueue_wait_share is not None and b.runqueue_wait_share is not None:
        return False
    ratio = _ratio(a.cpu_share, b.cpu_share)
    return ratio is not None and not 1 / SHARE_TOLERANCE <= ratio <= SHARE_TOLERANCE


def too_different(a: SpanConditions, b: SpanConditions, cpu_bound: bool) -> str | None:
    """Why the two machines are beyond correction (None when a correction can carry the difference)."""
    if a.runqueue_wait_share is not None and b.runqueue_wait_share is not None:
        if abs(a.runqueue_wait_share - b.runqueue_wait_share) > MAX_WAIT_SHARE_DIFFERENCE:
            return (f"run B's step thread waited for a CPU {b.runqueue_wait_share:.0%} of the time vs "
                    f"{a.runqueue_wait_share:.0%} in A, {share_words(a, b)}")
    elif cpu_bound and a.cpu_share and b.cpu_share:
        low, high = sorted((a.cpu_share, b.cpu_share))
        if low / high < MIN_CPU_SHARE_RATIO:
            return share_words(a, b)
    ratio = _ratio(a.reference_ms, b.reference_ms)
    if ratio is not None and not 1 / MAX_REFERENCE_RATIO <= ratio <= MAX_REFERENCE_RATIO:
        return (f"the machine-speed reference kernel took {a.reference_ms:.3g} ms in A and "
                f"{b.reference_ms:.3g} ms in B ({ratio - 1:+.0%}): a different or much busier machine")
    return None


def share_words(a: SpanConditions, b: SpanConditions) -> str:
    if a.cpu_share is None or b.cpu_share is None:
        return "the CPU each child got is unknown"
    return f"run B's child got {b.cpu_share:.0%} of a CPU vs {a.cpu_share:.0%} in A"


def _percent(ratio: float) -> str:
    return f"{ratio - 1:+.0%}"


def view_words(view: View) -> str:
    label = "median step" if view.name == "wall" else "CPU time per iteration"
    if not view.normalised:
        return f"{label} {_percent(view.ratio)} (too few machine-speed readings to correct)"
    return (f"{label} {_percent(view.ratio)} net of the machine [{_percent(view.low_ratio)}, "
            f"{_percent(view.high_ratio)}] ({_percent(view.raw_ratio)} raw)"
            + ("" if view.decides else ", not deciding: the CPU share differed"))


def _words(outcome: LatencyOutcome, views: tuple[View, ...], p50_a: float, p50_b: float,
           reason: str | None) -> str:
    from leakhunt.units import human_ms

    text = f"median step {human_ms(p50_a)} → {human_ms(p50_b)}; " + "; ".join(view_words(view) for view in views)
    if outcome in ("slower", "faster"):
        return f"B is {outcome}: {text}"
    if outcome == "same":
        return f"no change of {LATENCY_MIN_CHANGE:.0%} or more: {text}"
    return f"not comparable: {reason}; {text}"


def judge_latency(p50_a: float | None, p50_b: float | None, conditions_a: SpanConditions,
                  conditions_b: SpanConditions, wall_levels: tuple[RunLevel, RunLevel],
                  cpu_levels: tuple[RunLevel, RunLevel] | None) -> LatencyChange:
    """The latency verdict of B against A over one span (see the module docstring for the method)."""
    cpu_bound = is_cpu_bound(conditions_a, conditions_b)
    if p50_a is None or p50_b is None or p50_a <= 0 or p50_b <= 0:
        return LatencyChange("unknown", (), "no latencies in the common span", cpu_bound)
    views = [make_view("wall", p50_a, p50_b, *wall_levels)]
    cpu_a, cpu_b = conditions_a.cpu_ms_per_iteration, conditions_b.cpu_ms_per_iteration
    if cpu_bound and cpu_levels is not None and cpu_a and cpu_b:
        views.append(make_view("cpu", cpu_a, cpu_b, *cpu_levels))
        if shares_differ(conditions_a, conditions_b):
            # The wall clock carries the time slices B's child lost (or gained): CPU time decides.
            views[0] = View(**{**views[0].__dict__, "decides": False})
    says = {view.says for view in views if view.decides}
    reason = too_different(conditions_a, conditions_b, cpu_bound)
    outcome: LatencyOutcome
    if reason is not None:
        outcome = "not comparable"
    elif says == {"same"}:
        outcome = "same"
    elif len(says) == 1:
        outcome = "slower" if says == {"slower"} else "faster"
    else:
        outcome = "not comparable"
        reason = (f"{share_words(conditions_a, conditions_b)}, and the wall clock and the CPU time per "
                  "iteration disagree")
    return LatencyChange(outcome, tuple(views), _words(outcome, tuple(views), p50_a, p50_b, reason), cpu_bound,
                         reason if outcome == "not comparable" else None)
