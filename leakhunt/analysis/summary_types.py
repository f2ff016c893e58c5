"""The shape of summary.json, as TypedDicts: what analysis/summary_entry.py writes and report/ and the API read.

A TypedDict, not a dataclass: the entry is plain JSON (rounded by report/json_out.py, read back from disk by
`leakhunt report` and its readers), and its key order is the file's. Every key is listed here in that order;
docs/summary-schema.md says what each one means. Groups mirror the builders in summary_entry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from leakhunt.analysis.attribution_types import AttributionSummary
from leakhunt.analysis.verdict_types import MemoryVerdict, Pattern, StrategyVerdict

if TYPE_CHECKING:  # rundir's package imports pandas: `import leakhunt` stays light
    from leakhunt.rundir.run_json import EnvironmentJson, HostJson, PlacementJson


class PostCollectionSummary(TypedDict):
    """What the forced full collections said of one series' growth."""

    status: str
    points: int
    slope_bytes_per_iter: float | None
    most_freed_bytes: float
    most_freed_at_iteration: int | None


class SeriesSummary(TypedDict):
    """One memory series' growth and verdict (summary entry's `memory[series]`)."""

    unit: str  # "bytes" or "blocks"
    growth_floor: float
    verdict: MemoryVerdict | None
    pattern: Pattern | None
    reason: str | None
    more_iterations_needed: int | None
    slope_bytes_per_iter: float | None
    slope_ci95_bytes_per_iter: list[float] | None
    early_slope_bytes_per_iter: float | None
    recent_slope_bytes_per_iter: float | None
    recent_slope_ci95_bytes_per_iter: list[float] | None
    growth_bytes: int | None
    start_level_bytes: int | None
    end_level_bytes: int | None
    peak_bytes: int | None
    noise_floor_bytes_per_iter: float
    noise_sigma_bytes: float
    warmup_end_iteration: int
    first_iteration: int
    last_iteration: int
    samples_judged: int
    post_collection: PostCollectionSummary | None


class ErrorSummary(TypedDict):
    """The workload's exception (error.json)."""

    type: str | None
    message: str | None
    traceback: str | None


class LatencyPercentiles(TypedDict):
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    mean: float | None


class ProjectionSummary(TypedDict):
    """When a resource runs out at a leak's rate."""

    capacity_bytes: int | None
    headroom_bytes: int | None
    slope_bytes_per_iter: float
    iterations_to_exhaust: int | None
    time_to_exhaust_s: float | None


class HintSummary(TypedDict):
    kind: str
    evidence: str
    advice: str


class StrategySpecSummary(TypedDict):
    """Which strategy ran: the registry's words and the factory the child called."""

    description: str
    code_pattern: str
    factory: str | None
    factory_kwargs: dict[str, Any]  # the factory's own keyword arguments, as strategy.json has them


class ChildSummary(TypedDict):
    build_time_s: float | None
    tf_version: str | None
    notes: list[str]


class FullCollectionsSummary(TypedDict):
    forced: int
    skipped_for_budget: int
    seconds: float
    automatic: int | None
    note: str | None


class VerdictFields(TypedDict):
    """Who the strategy is and what was decided, on which series."""

    name: str
    index: int
    folder: str
    verdict: StrategyVerdict
    verdict_reason: str
    memory_verdict: MemoryVerdict
    pattern: Pattern
    deciding_series: str | None
    deciding_slope_bytes_per_iter: float | None


class OutcomeFields(TypedDict):
    """How the child ended, and the workload's exception if it raised one."""

    outcome: str
    description: str | None
    exit_code: int | None
    signal_name: str | None
    memory_limit_hit: bool
    error_text: str | None
    error: ErrorSummary | None


class RssFields(TypedDict):
    """The span judged and the RSS series' growth."""

    iterations_completed: int
    warmup_steps: int
    warmup_end_iteration: int | None
    judged_iterations: int | None
    samples_judged: int
    rss_slope_bytes_per_iter: float | None
    rss_slope_ci95_bytes_per_iter: list[float] | None
    rss_growth_bytes: int | None
    rss_early_slope_bytes_per_iter: float | None
    rss_recent_slope_bytes_per_iter: float | None
    noise_floor_bytes_per_iter: float | None
    more_iterations_needed: int | None


class OtherSeriesFields(TypedDict):
    """The other memory series' slopes, the deciding one's in its own unit, and the peaks."""

    uss_slope_bytes_per_iter: float | None
    uss_slope_ci95_bytes_per_iter: list[float] | None
    gpu_process_slope_bytes_per_iter: float | None
    gpu_process_slope_ci95_bytes_per_iter: list[float] | None
    tf_current_slope_bytes_per_iter: float | None
    tf_current_slope_ci95_bytes_per_iter: list[float] | None
    heap_slope_bytes_per_iter: float | None
    heap_slope_ci95_bytes_per_iter: list[float] | None
    py_blocks_slope_per_iter: float | None
    deciding_slope_per_iter: float | None
    deciding_unit: str | None
    rss_source: str
    gpu_process_attribution: str | None
    peak_rss_bytes: int | None
    peak_uss_bytes: int | None
    peak_gpu_bytes: int | None


class DriftFields(TypedDict):
    """The latency drift test's evidence: raw and reference-corrected trends, and the reference itself."""

    latency_faster_over_run: bool
    latency_change_first_to_last_fifth: float | None
    latency_window_medians_ms: list[float] | None
    latency_trend_tau: float | None
    latency_corrected_change_first_to_last_fifth: float | None
    latency_corrected_window_medians_ms: list[float] | None
    latency_corrected_trend_tau: float | None
    latency_corrected_drift_ms_per_1k_iter: float | None
    reference_p50_ms: float | None
    reference_readings: int
    machine_change_first_to_last_fifth: float | None
    latency_drift_judged: bool


class LatencyFields(TypedDict):
    latency_ms: LatencyPercentiles
    latency_count: int
    images_per_step: float
    images_per_s: float | None
    latency_drift_ms_per_1k_iter: float | None
    latency_drift_ci95_ms_per_1k_iter: list[float] | None
    latency_drift_significant: bool


class DetailFields(TypedDict):
    """Projections, hints, every series' entry, the strategy and child, and how long the run went."""

    projection: dict[str, ProjectionSummary]
    hints: list[HintSummary]
    memory: dict[str, SeriesSummary]
    rss_verdict: MemoryVerdict | None
    strategy: StrategySpecSummary
    child: ChildSummary
    wall_time_s: float | None
    placement: PlacementJson | None  # the Ray placement record as the backend wrote it (--backend ray)
    stopped_early: bool
    stop_reason: str
    verdict_covers: str
    settled_at_iteration: int | None
    stop_delay_ms: float | None
    full_collections: FullCollectionsSummary | None
    attribution: AttributionSummary


class StrategySummary(VerdictFields, OutcomeFields, RssFields, OtherSeriesFields, LatencyFields, DriftFields,
                      DetailFields):
    """One strategy's summary.json entry (the keys of the groups above, in the file's order)."""


class RunConfigSummary(TypedDict):
    """The run's settings summary.json repeats, values as run.json has them (None where it lacks one)."""

    iterations: int | None
    until_decided: bool | None
    duration_s: float | None
    warmup_steps: int | None
    sample_interval_s: float | None
    signal_every_steps: int | None
    fail_on_leak: bool | None
    leak_threshold_bytes_per_iter: float | None
    iteration_timeout_s: float | None
    memory_limit_bytes: int | None
    attribute: str | None


class RunSummary(TypedDict):
    """summary.json's `run`: how the run was made."""

    command_line: list[str]
    started_utc: str | None
    finished_utc: str | None
    interrupted: bool
    notes: list[str]
    config: RunConfigSummary
    environment: EnvironmentJson  # run.json's environment record (versions, CPU, GPUs), passed through
    samplers: dict[str, str]
    host: HostJson
    backend: str
    hosts_note: str | None


class Summary(TypedDict):
    """The whole of summary.json."""

    leakhunt_summary_format: int
    leak_found: bool
    verdict_counts: dict[str, int]
    run: RunSummary
    strategies: list[StrategySummary]
