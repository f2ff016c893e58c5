"""child.json and error.json (the child writes them from rundir.records.ChildInfo and ErrorRecord) as
TypedDicts: what to_json writes; from_json reads a file of any version tolerantly."""

from __future__ import annotations

from typing import TypedDict


class ErrorJson(TypedDict):
    """error.json: the exception the workload raised, and where (ErrorRecord's fields, in its order)."""

    type: str | None
    message: str | None
    phase: str | None  # one of records.ERROR_PHASES
    step: int | None
    traceback: str | None


class _ChildInfoBase(TypedDict):
    pid: int | None
    images_per_step: float
    build_time_s: float | None
    tensorflow_loaded: bool
    notes: list[str]


class ChildInfoJson(_ChildInfoBase, total=False):
    """child.json: the TensorFlow fields only when the workload loaded TensorFlow, the end-of-loop fields only
    once the loop is done (`unavailable` always, after the TensorFlow fields)."""

    tf_version: str | None
    cuda_version: str | None
    cudnn_version: str | None
    tf_gpus: list[str]
    unavailable: dict[str, str]  # in-child signal -> why it cannot be read
    reading_every_steps_last: int
    stopped_early: bool | None
    close_started_monotonic_s: float | None
    loop_ended_monotonic_s: float
