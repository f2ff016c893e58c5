"""attribution.json (the attribution child writes it, analysis/attribution_sites.py reads it) and
attribution-status.json (the parent writes it) as TypedDicts; some records pass through to summary.json's
`attribution` unchanged."""

from __future__ import annotations

from typing import TypedDict


class StackFrame(TypedDict):
    """One frame of a site's allocation stack (innermost last); `code` only for the user's own frames."""

    function: str | None
    file: str
    line: int
    user: bool
    code: str


class VaryingArgument(TypedDict):
    """An argument of a retracing tf.function whose traced value or spec differs between traces."""

    argument: str
    kind: str  # "tensor" or the Python type's name
    examples: list[str]
    distinct: int


class TfFunctionRecord(TypedDict):
    """A tf.function the attribution child saw trace during the pass (attribution.json's `tf_functions`)."""

    name: str
    def_file: str | None
    def_line: int | None
    file: str  # the user's line that traced its newest concrete function
    line: int
    function: str | None
    code: str
    traces: list[int] | None  # tracing count at each checkpoint (None: created during the pass)
    tracing_count: int | None
    concrete_functions: int
    varying: list[VaryingArgument]


class RetracingRecord(TfFunctionRecord):
    """A TfFunctionRecord with its traces' rate over the pass (analysis/attribution_sites.py)."""

    traces_per_iter: float | None


class SiteRecord(TypedDict):
    """One user line's live bytes per kind at each checkpoint (attribution.json's `sites`); None where the
    tracker could not read a checkpoint."""

    file: str
    line: int
    function: str | None
    code: str
    bytes: dict[str, list[int | None]]  # kind ("python", "python_small", "native", "native_mmap") -> series
    stack: list[StackFrame]  # of the allocation that grew most there
    traced_code: StackFrame | None  # the user's line inside a traced tf.function body, when the site is its call


class WitnessLineRecord(TypedDict):
    """The C heap's change charged to one user line at each checkpoint (attribution.json's `witness_lines`)."""

    file: str
    line: int
    function: str | None
    code: str
    bytes: list[int]


class GraphSiteRecord(TypedDict):
    """TF1 graph ops a user line added, counted at each checkpoint (attribution.json's `tf_graph`)."""

    file: str
    line: int
    function: str | None
    code: str
    ops: list[int]
    op_types: dict[str, int]


class CheckpointReading(TypedDict):
    """The attribution child's own memory at one checkpoint, as read there."""

    iteration: int
    t_monotonic_s: float
    rss_bytes: int | None
    heap_bytes: int | None  # None without mallinfo2
    py_blocks: int


class CheckpointRecord(CheckpointReading, total=False):
    """A CheckpointReading as attribution.json's `checkpoints` has it."""

    snapshot: int | None  # memray's snapshot index read for this checkpoint (memray only)


class PassTiming(TypedDict, total=False):
    """Seconds of the attribution child's phases (attribution.json's `timing_s`; summary.json's `phases_s`, {}
    when the file has none)."""

    build: float
    warmup: float
    tracked: float
    read: float


class SiteEvidence(TypedDict):
    """What the trackers found: the per-site series of attribution.json."""

    sites: list[SiteRecord]
    witness_lines: list[WitnessLineRecord]
    tf_graph: list[GraphSiteRecord]
    tf_functions: list[TfFunctionRecord]


class AttributionJson(TypedDict, total=False):
    """attribution.json. total=False: a failed pass has only attribution_format, strategy, error and traceback,
    and a run folder outlives the version that wrote it."""

    attribution_format: int
    strategy: str
    error: str
    traceback: str
    tracker: str  # "memray" or "tracemalloc"
    tracker_note: str | None  # why not memray
    witness: str
    tensorflow: bool
    warmup_steps: int
    iterations_planned: int
    iterations: int
    stop_reason: str
    checkpoints: list[CheckpointRecord]
    timing_s: PassTiming
    sites: list[SiteRecord]  # SiteEvidence's keys (a total=False TypedDict cannot inherit them optional)
    witness_lines: list[WitnessLineRecord]
    tf_graph: list[GraphSiteRecord]
    tf_functions: list[TfFunctionRecord]


class PlanJson(TypedDict):
    """The attribution pass's plan (run_pass.Plan as attribution-status.json's `plan`)."""

    warmup_steps: int
    iterations: int
    checkpoints: int
    step_ms: float | None
    budget_s: float
    why: str


class AttributionStatusJson(TypedDict):
    """attribution-status.json: how the attribution pass ended, as the parent saw it."""

    outcome: str  # "done" or "failed"
    reason: str | None
    wall_s: float
    peak_rss_bytes: int | None
    exit_code: int | None
    plan: PlanJson | None
