"""The rows `leakhunt compare` writes (compare.json) and renders (compare.md/.html), as TypedDicts: built by
analysis/comparison.py and report/compare.py, read by the renderers there. Dicts because compare.json is them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

# A slope's 95% interval: a tuple as analysis builds it, a list once to_jsonable has copied the comparison.
Interval = Sequence[float]


class SpanRange(TypedDict):
    first_iteration: int
    last_iteration: int


class MemorySeriesRow(TypedDict):
    """One compared memory series inside the common span."""

    series: str
    outcome: str
    slope_a_per_iter: float | None
    slope_ci95_a_per_iter: Interval | None
    slope_b_per_iter: float | None
    slope_ci95_b_per_iter: Interval | None
    verdict_a_in_span: str
    verdict_b_in_span: str


class LatencyViewRow(TypedDict):
    """analysis/latency_change.View as compare.json has it, with what it says."""

    name: str
    raw_ratio: float
    ratio: float
    low_ratio: float
    high_ratio: float
    normalised: bool
    tolerance: float
    decides: bool
    says: Literal["slower", "faster", "same"]


class ConditionsRow(TypedDict):
    """analysis/span_conditions.SpanConditions as compare.json has it."""

    cpu_ms_per_iteration: float | None
    wall_ms_per_iteration: float | None
    cpu_share: float | None
    reference_ms: float | None
    reference_mem_ms: float | None
    reference_readings: int
    cpu_readings: int
    runqueue_wait_share: float | None
    threads_wait_fraction: float | None


class MemoryFields(TypedDict):
    memory_outcome: str  # MemoryOutcome, or "mixed" when one series grows faster and another slower
    memory_in_words: str
    memory_series: list[MemorySeriesRow]
    rss_slope_a_bytes_per_iter: float | None
    rss_slope_ci95_a_bytes_per_iter: Interval | None
    rss_slope_b_bytes_per_iter: float | None
    rss_slope_ci95_b_bytes_per_iter: Interval | None
    rss_slope_delta_bytes_per_iter: float | None
    rss_slope_significant: bool


class LatencyFields(TypedDict):
    latency_outcome: str
    latency_in_words: str
    cpu_bound: bool
    latency_views: list[LatencyViewRow]
    latency_p50_a_ms: float | None
    latency_p50_b_ms: float | None
    latency_p99_a_ms: float | None
    latency_p99_b_ms: float | None
    latency_p50_delta_ms: float | None
    latency_p50_relative_change: float | None
    latency_net_change: float | None
    latency_significant: bool
    latency_comparable: bool
    latency_not_comparable_reason: str | None
    reference_p50_a_ms: float | None
    reference_p50_b_ms: float | None
    conditions_a: ConditionsRow
    conditions_b: ConditionsRow


class RowIdentity(TypedDict):
    """What every row has, whether or not the runs share a span."""

    name: str
    verdict_a: str
    verdict_b: str
    verdict_changed: bool
    iterations_a: int
    iterations_b: int
    differences: list[str]
    images_per_s_a: float | None
    images_per_s_b: float | None


class _ComparisonRowBase(RowIdentity):
    span: SpanRange | None
    span_words: str
    memory_outcome: str
    latency_outcome: str
    rss_slope_significant: bool
    latency_significant: bool
    latency_comparable: bool


class ComparisonRow(_ComparisonRowBase, total=False):
    """One strategy matched by name; the memory and latency details only when the runs share a span."""

    memory_in_words: str
    memory_series: list[MemorySeriesRow]
    rss_slope_a_bytes_per_iter: float | None
    rss_slope_ci95_a_bytes_per_iter: Interval | None
    rss_slope_b_bytes_per_iter: float | None
    rss_slope_ci95_b_bytes_per_iter: Interval | None
    rss_slope_delta_bytes_per_iter: float | None
    latency_in_words: str
    cpu_bound: bool
    latency_views: list[LatencyViewRow]
    latency_p50_a_ms: float | None
    latency_p50_b_ms: float | None
    latency_p99_a_ms: float | None
    latency_p99_b_ms: float | None
    latency_p50_delta_ms: float | None
    latency_p50_relative_change: float | None
    latency_net_change: float | None
    latency_not_comparable_reason: str | None
    reference_p50_a_ms: float | None
    reference_p50_b_ms: float | None
    conditions_a: ConditionsRow
    conditions_b: ConditionsRow
    # With repeats (a folder of run folders per side): each side's run folders; the conditions are then the
    # medians over a side's runs, the slopes the medians with the hull of the runs' intervals.
    runs_a: list[str]
    runs_b: list[str]


class RunInfo(TypedDict):
    label: str  # the run folder's name
    started_utc: str | None
    command_line: list[str]


class Comparison(TypedDict):
    """compare.json: the two runs, how they were made differently, and one row per matched strategy."""

    run_a: RunInfo
    run_b: RunInfo
    run_differences: list[str]
    strategies: list[ComparisonRow]
    only_in_a: list[str]
    only_in_b: list[str]
    # Every run folder of each side (one each without repeats).
    runs_a: list[RunInfo]
    runs_b: list[RunInfo]
