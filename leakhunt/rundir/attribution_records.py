"""Parts of attribution.json (the attribution child writes it, analysis/attribution_sites.py reads it) as
TypedDicts: the records that pass through to summary.json's `attribution` unchanged."""

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
