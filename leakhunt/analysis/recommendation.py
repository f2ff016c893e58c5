"""Which strategy to use, from summary.json entries alone: a ranking (no leak first, then throughput), the
recommended strategy's factors against each other one, and for built-in strategies the code change that
turns a losing pattern into the recommended one. Pure: numbers and words in, no formatting of figures.

Custom workloads (`--workload FILE.py:FUNC`) get the ranking and the figures, never invented code advice:
leakhunt does not know what their code looks like. The ranking is decided here, once, for every renderer
(report/views.py words it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leakhunt.analysis.summary_types import StrategySummary, Summary

BUILTIN_FACTORY_PREFIX = "leakhunt.strategies"
# Memory classes, best first. flat and plateau both stay bounded: "no leak". inconclusive may still leak;
# a crashed or failed strategy did not finish the job whatever its memory did.
MEMORY_CLASS = {"flat": 0, "plateau": 0, "inconclusive": 1, "leak": 2, "crashed": 3, "failed": 3}
NO_LEAK_CLASS = 0
UNKNOWN_CLASS = 4
# Throughputs within this ratio of each other are "about the same" (run-to-run noise on a shared machine).
SAME_SPEED_RATIO = 1.05
# Peak RSS differences below both of these are "the same" (allocator granularity, sampling).
SAME_PEAK_BYTES = 8 * 2**20
SAME_PEAK_FRACTION = 0.02

# What to change in the calling code, from one built-in pattern to another: (from, to) -> words. The code
# itself comes from each strategy's code_pattern (leakhunt/strategies/registry.py) in summary.json.
_TF1_TO_TF2 = ("Move to TF2: load the model once with tf.saved_model.load, call its serving_default "
               "signature for each batch, and keep the post-processing in a tf.function with a shape-generic "
               "input_signature so it traces once.")
CODE_CHANGES: dict[tuple[str, str], str] = {
    ("tutorial", "persistent"): (
        "Build the post-processing ops once, before the loop, call graph.finalize(), and feed every image to "
        "one long-lived Session, instead of opening a Session and adding ops to the graph on every call "
        "(the fix of tensorflow/models PR #6768)."),
    ("session-per-call", "persistent"): (
        "Open the Session once, before the loop, and reuse it for every image; finalize the graph so "
        "nothing adds ops to it later."),
    ("reset-graph", "persistent"): (
        "Stop resetting the graph for every image: import the model and build the post-processing once, "
        "call graph.finalize(), and reuse one Session. The memory the resets release is rebuilt on the "
        "next call, and every call pays for the import and a new Session."),
    ("saved-model", "persistent"): (
        "Run the frozen graph through tf.compat.v1: import it and build the post-processing once, "
        "finalize the graph, and feed every image to one Session."),
    ("tf-function-retrace", "persistent"): (
        "Run the frozen graph through tf.compat.v1: import it and build the post-processing once, "
        "finalize the graph, and feed every image to one Session."),
    ("tutorial", "saved-model"): _TF1_TO_TF2,
    ("session-per-call", "saved-model"): _TF1_TO_TF2,
    ("reset-graph", "saved-model"): _TF1_TO_TF2,
    ("persistent", "saved-model"): _TF1_TO_TF2,
    ("tf-function-retrace", "saved-model"): (
        "Stop retracing: pass tensors, not Python values (the frame number), to the tf.function and give "
        "it a shape-generic input_signature, or call the SavedModel's serving_default signature directly."),
    ("tutorial", "session-per-call"): (
        "Build the post-processing ops once, before the loop, so no call adds ops to the graph."),
    ("tutorial", "reset-graph"): (
        "Reset the default graph and re-import the model for every image, so the ops each call adds are "
        "dropped with the old graph."),
}
AXIS_LABELS = {"batch": "batch size", "resize": "resize", "gpu_memory": "GPU memory option", "device": "device"}


@dataclass(frozen=True)
class Ranked:
    """One strategy's place in the ranking and the figures it was ranked on."""

    rank: int  # 1 = best
    index: int  # position in summary["strategies"]
    name: str
    verdict: str
    memory_class: int
    images_per_s: float | None
    peak_rss_bytes: float | None
    builtin: str | None  # the built-in strategy it runs (registry name), None for a custom workload


@dataclass(frozen=True)
class CodeChange:
    """How to turn one built-in pattern into the recommended one."""

    from_strategy: str
    to_strategy: str
    advice: str  # words; empty when only axes differ
    axis_changes: tuple[tuple[str, str, str], ...]  # (axis label, from, to)
    before_code: str
    after_code: str


@dataclass(frozen=True)
class Versus:
    """The recommended strategy against one other."""

    other: Ranked
    speed_factor: float | None  # recommended images/s / other's
    peak_rss_saved_bytes: float | None  # other's peak RSS - recommended's (negative: the recommended uses more)
    same_speed: bool
    same_peak: bool
    change: CodeChange | None


@dataclass(frozen=True)
class Recommendation:
    ranking: tuple[Ranked, ...]
    recommended: Ranked | None  # None when no strategy ran without a leak
    versus: tuple[Versus, ...]  # against every other ranked strategy, in rank order
    why_none: str = ""  # why nothing is recommended
    custom_only: bool = False  # the recommended strategy is a custom workload: no code advice


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value else None  # NaN is no figure


def builtin_name(entry: StrategySummary) -> str | None:
    """The registry name of a built-in strategy, None for a custom workload."""
    from leakhunt.strategies.registry import STRATEGIES

    strategy = entry.get("strategy") or {}
    factory = str(strategy.get("factory") or "")
    if not factory.startswith(BUILTIN_FACTORY_PREFIX):
        return None
    kwargs = strategy.get("factory_kwargs") or {}
    name = kwargs.get("strategy") or kwargs.get("pattern")
    if name in STRATEGIES:
        return str(name)
    plain = str(entry.get("name") or "").split("[", 1)[0]
    return plain if plain in STRATEGIES else None


def memory_class(entry: StrategySummary) -> int:
    return MEMORY_CLASS.get(str(entry.get("verdict")), UNKNOWN_CLASS)


def rank_strategies(entries: list[StrategySummary]) -> tuple[Ranked, ...]:
    """No leak first, then by throughput (images/s, highest first), then the smaller peak RSS."""
    def key(item: tuple[int, StrategySummary]):
        index, entry = item
        speed = _number(entry.get("images_per_s"))
        peak = _number(entry.get("peak_rss_bytes"))
        return (memory_class(entry), speed is None, -(speed or 0.0), peak is None, peak or 0.0, index)

    ordered = sorted(enumerate(entries), key=key)
    return tuple(Ranked(rank=rank, index=index, name=str(entry.get("name")), verdict=str(entry.get("verdict")),
                        memory_class=memory_class(entry), images_per_s=_number(entry.get("images_per_s")),
                        peak_rss_bytes=_number(entry.get("peak_rss_bytes")), builtin=builtin_name(entry))
                 for rank, (index, entry) in enumerate(ordered, start=1))


def _axes(entry: StrategySummary) -> dict[str, str]:
    kwargs = (entry.get("strategy") or {}).get("factory_kwargs") or {}
    return {axis: str(kwargs.get(axis)) for axis in AXIS_LABELS if axis in kwargs}


def code_change(loser: StrategySummary, winner: StrategySummary) -> CodeChange | None:
    """The change from a losing built-in strategy to the recommended built-in one (None for custom ones)."""
    source, target = builtin_name(loser), builtin_name(winner)
    if source is None or target is None:
        return None
    loser_axes, winner_axes = _axes(loser), _axes(winner)
    axis_changes = tuple((AXIS_LABELS[axis], loser_axes.get(axis, "default"), winner_axes[axis])
                         for axis in AXIS_LABELS
                         if axis in winner_axes and loser_axes.get(axis) != winner_axes[axis])
    if source == target:
        if not axis_changes:
            return None
        advice = ""
    else:
        advice = CODE_CHANGES.get((source, target),
                                  f"Change the calling code from the {source} pattern to the {target} pattern.")
    return CodeChange(from_strategy=source, to_strategy=target, advice=advice, axis_changes=axis_changes,
                      before_code=str((loser.get("strategy") or {}).get("code_pattern") or ""),
                      after_code=str((winner.get("strategy") or {}).get("code_pattern") or ""))


def _versus(best: Ranked, other: Ranked, entries: list[StrategySummary]) -> Versus:
    factor = None
    if best.images_per_s and other.images_per_s:
        factor = best.images_per_s / other.images_per_s
    saved = None
    if best.peak_rss_bytes is not None and other.peak_rss_bytes is not None:
        saved = other.peak_rss_bytes - best.peak_rss_bytes
    same_speed = factor is not None and 1 / SAME_SPEED_RATIO < factor < SAME_SPEED_RATIO
    same_peak = saved is not None and (abs(saved) < SAME_PEAK_BYTES
                                       or abs(saved) < SAME_PEAK_FRACTION * max(best.peak_rss_bytes or 0, 1.0))
    return Versus(other=other, speed_factor=factor, peak_rss_saved_bytes=saved, same_speed=same_speed,
                  same_peak=same_peak, change=code_change(entries[other.index], entries[best.index]))


def recommend(summary: Summary) -> Recommendation:
    """Rank the run's strategies and pick the one to use (a strategy without a leak, the fastest of them)."""
    entries = list(summary.get("strategies") or [])
    ranking = rank_strategies(entries)
    if not ranking:
        return Recommendation((), None, (), why_none="no strategy was measured")
    best = ranking[0]
    if best.memory_class != NO_LEAK_CLASS:
        return Recommendation(ranking, None, (), why_none=(
            "no strategy ran without a leak: each one leaked, crashed, failed or needs more iterations to "
            "decide"))
    versus = tuple(_versus(best, other, entries) for other in ranking[1:])
    return Recommendation(ranking, best, versus, custom_only=best.builtin is None)
