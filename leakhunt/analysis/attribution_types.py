"""The shape of summary.json's `attribution` field (analysis/attribution.py writes it, report/ reads it).

TypedDicts, as for the rest of the summary entry (analysis/summary_types.py): plain JSON, keys in the file's
order. docs/summary-schema.md#attribution says what each one means.
"""

from __future__ import annotations

from typing import TypedDict

from leakhunt.rundir.attribution_records import PassTiming, StackFrame, VaryingArgument


class RetracingSummary(TypedDict):
    """A retracing tf.function at a site: how fast it traces, and which arguments differ between traces."""

    name: str | None
    def_file: str | None
    def_line: int | None
    traces_per_iter: float | None
    tracing_count: int | None
    concrete_functions: int | None
    varying: list[VaryingArgument] | None


class MergedSite(TypedDict):
    file: str
    line: int
    code: str
    bytes_per_iter: float


class SiteSummary(TypedDict):
    """One line of the user's code that keeps a growing share of the leak."""

    kind: str
    file: str
    line: int
    function: str | None
    code: str
    bytes_per_iter: float
    ci95_bytes_per_iter: list[float]
    share: float | None
    detail: str
    python_bytes_per_iter: float
    native_bytes_per_iter: float
    unseen_native_bytes_per_iter: float | None
    ops_per_iter: float | None
    op_types: dict[str, int] | None
    retracing: RetracingSummary | None
    merged_from: list[MergedSite] | None
    stack: list[StackFrame]
    traced_code: StackFrame | None


class NotAttributable(TypedDict):
    bytes_per_iter: float
    share: float | None
    detail: str


class CacheSummary(TypedDict):
    file: str
    line: int
    function: str | None
    code: str
    grew_bytes: float | None
    detail: str


class PassSlopes(TypedDict):
    """The attribution pass's own RSS and C heap slopes."""

    rss_slope_bytes_per_iter: float | None
    heap_slope_bytes_per_iter: float | None


class AttributionCost(TypedDict):
    wall_s: float | None
    peak_rss_bytes: float | None
    verdict_pass_wall_s: float | None
    verdict_pass_peak_rss_bytes: float | None
    tracked_step_ms: float
    untracked_step_ms: float | None
    slowdown: float | None
    phases_s: PassTiming


class AttributionBase(TypedDict):
    """Every attribution entry has these; a pass that did not run (or failed) has only these."""

    status: str  # "done", "skipped: why", "failed: why"
    iterations: int | None
    cost_s: float | None
    sites: list[SiteSummary]


# "pass" is a keyword: the functional form spells it.
AttributionFindings = TypedDict("AttributionFindings", {
    "explained_share": float | None,
    "not_attributable": NotAttributable | None,
    "caches": list[CacheSummary],
    "tracker": str | None,
    "tracker_note": str | None,
    "witness": str | None,
    "checkpoints": int,
    "warmup_steps": int | None,
    "stop_reason": str | None,
    "pass": PassSlopes,
    "length_reason": str | None,
    "cost": AttributionCost,
}, total=False)


class AttributionSummary(AttributionBase, AttributionFindings):
    """summary.json's `attribution`: the base fields, and the pass's findings when its status is "done"."""
