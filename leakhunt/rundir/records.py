"""Typed records of a run folder's JSON files: child.json and error.json (the child writes them), status.json
as the analysis reads it (the parent writes it from harness/exit_status.StrategyStatus), and run.json as
the analysis and `leakhunt compare` read it (the runner writes it).

Frozen dataclasses with to_json (what the child writes) and from_json (what readers get), as in config.py.

from_json is tolerant, because a run folder outlives the version that wrote it and a child may die half-way:
a field that is missing, or not of its type, reads as None (or the field's default) instead of failing the
whole report.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, cast, get_args

from leakhunt.rundir.child_json import ChildInfoJson, ErrorJson
from leakhunt.rundir.config import RunConfigJson
from leakhunt.rundir.run_json import BackendJson, EnvironmentJson, HostJson

# How a child ended (status.json "outcome", written by harness/exit_status.py).
Outcome = Literal["completed", "failed", "crashed", "hung", "interrupted", "unknown"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# Where the workload raised: importing its file, calling its factory, a step, or close().
ERROR_PHASES = ("import", "build", "step", "close")


class _StatusJsonBase(TypedDict):
    outcome: Outcome
    exit_code: int | None
    signal: int | None
    signal_name: str | None
    description: str
    steps_completed: int
    iterations_completed: int
    warmup_completed: int
    wall_time_s: float
    memory_limit_hit: bool
    hung: bool
    bad_workload: bool
    cgroup_oom_kills: int | None
    memory_limit_method: str | None
    stopped_early: bool
    stop_reason: str


class StatusJson(_StatusJsonBase, total=False):
    """status.json as harness/exit_status.StrategyStatus writes it; the optional keys only when they are set."""

    gpu_process_attribution: str
    fault_traceback: str
    settled_at_iteration: int
    stop_requested_monotonic_s: float


def outcome_of(status: dict[str, Any]) -> Outcome:
    """status.json's outcome; "unknown" when it is missing or not one of OUTCOMES (a newer or broken file)."""
    value = status.get("outcome")
    return next((outcome for outcome in OUTCOMES if outcome == value), "unknown")


def _number_or_none(value: Any) -> float | None:
    """A JSON number as it was written (int stays int), else None; booleans are not numbers here."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


@dataclass(frozen=True)
class ErrorRecord:
    """error.json: the exception the workload raised, and where. Field order is the file's."""

    type: str | None
    message: str | None
    phase: str | None  # one of ERROR_PHASES
    step: int | None  # the step it raised in (phase "step" and "close"); None before the loop
    traceback: str | None

    @classmethod
    def from_exception(cls, error: BaseException, phase: str, step: int | None) -> ErrorRecord:
        """The exception being handled (call inside its `except` block: the traceback is read from there)."""
        return cls(type(error).__name__, str(error), phase, step, traceback.format_exc())

    @property
    def text(self) -> str:
        """"Type: message", as the summary and the report quote it."""
        return f"{self.type if self.type is not None else 'Error'}: {self.message if self.message is not None else ''}"

    def to_json(self) -> ErrorJson:
        return {"type": self.type, "message": self.message, "phase": self.phase, "step": self.step,
                "traceback": self.traceback}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ErrorRecord:
        step = data.get("step")
        return cls(
            type=_text_or_none(data.get("type")),
            message=_text_or_none(data.get("message")),
            phase=_text_or_none(data.get("phase")),
            step=step if isinstance(step, int) and not isinstance(step, bool) else None,
            traceback=_text_or_none(data.get("traceback")),
        )


@dataclass(frozen=True)
class ChildInfo:
    """child.json: what the child knows about itself. Written once the workload is built, and again with the
    end-of-loop fields (the last three) once the loop is done; a child that died in between has only the first.
    """

    pid: int | None
    images_per_step: float = 1.0  # images one step() processes (throughput is images/s)
    build_time_s: float | None = None
    tensorflow_loaded: bool = False
    notes: tuple[str, ...] = ()  # what the workload wants the report to say (its `notes` attribute)
    # Only when TensorFlow was loaded by the workload:
    tf_version: str | None = None
    cuda_version: str | None = None
    cudnn_version: str | None = None
    tf_gpus: tuple[str, ...] = ()
    unavailable: dict[str, str] = field(default_factory=dict)  # in-child signal -> why it cannot be read
    reading_every_steps_last: int | None = None  # the reading period K at the end of the loop
    stopped_early: bool | None = None  # the parent asked the child to stop (--until-decided)
    # When the child began close(): samples after it show teardown, not the loop (analysis cuts them off).
    close_started_monotonic_s: float | None = None
    # When its loop ended (after its last step): against the parent's stop request, how promptly it stopped.
    loop_ended_monotonic_s: float | None = None

    def to_json(self) -> ChildInfoJson:
        data: ChildInfoJson = {"pid": self.pid, "images_per_step": self.images_per_step,
                               "build_time_s": self.build_time_s, "tensorflow_loaded": self.tensorflow_loaded,
                               "notes": list(self.notes)}
        if self.tensorflow_loaded:
            data.update({"tf_version": self.tf_version, "cuda_version": self.cuda_version,
                         "cudnn_version": self.cudnn_version, "tf_gpus": list(self.tf_gpus)})
        data["unavailable"] = dict(self.unavailable)
        if self.reading_every_steps_last is not None:  # the loop finished: the end-of-loop fields
            data.update({"reading_every_steps_last": self.reading_every_steps_last,
                         "stopped_early": self.stopped_early,
                         "close_started_monotonic_s": self.close_started_monotonic_s})
            if self.loop_ended_monotonic_s is not None:  # absent in folders written before it existed
                data["loop_ended_monotonic_s"] = self.loop_ended_monotonic_s
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChildInfo:
        images_per_step = _number_or_none(data.get("images_per_step"))
        every = data.get("reading_every_steps_last")
        stopped_early = data.get("stopped_early")
        pid = data.get("pid")
        unavailable = data.get("unavailable")
        close_started_s = data.get("close_started_monotonic_s")
        loop_ended_s = data.get("loop_ended_monotonic_s")
        return cls(
            pid=pid if isinstance(pid, int) else None,
            images_per_step=float(images_per_step) if images_per_step is not None and images_per_step > 0 else 1.0,
            build_time_s=_number_or_none(data.get("build_time_s")),
            tensorflow_loaded=data.get("tensorflow_loaded") is True,
            notes=_texts(data.get("notes")),
            tf_version=_text_or_none(data.get("tf_version")),
            cuda_version=_text_or_none(data.get("cuda_version")),
            cudnn_version=_text_or_none(data.get("cudnn_version")),
            tf_gpus=_texts(data.get("tf_gpus")),
            unavailable={str(k): str(v) for k, v in unavailable.items()} if isinstance(unavailable, dict) else {},
            reading_every_steps_last=every if isinstance(every, int) and not isinstance(every, bool) else None,
            stopped_early=stopped_early if isinstance(stopped_early, bool) else None,
            # Any JSON number the child wrote (the cut only compares it with sample times).
            close_started_monotonic_s=(float(close_started_s) if isinstance(close_started_s, (int, float))
                                       else None),
            loop_ended_monotonic_s=float(loop_ended_s) if isinstance(loop_ended_s, (int, float)) else None,
        )


@dataclass(frozen=True)
class StatusRecord:
    """status.json as the analysis reads it: the fields the summary and the report use, read once.

    The parent writes the whole file from harness/exit_status.StrategyStatus; this reader keeps what the
    file says (a missing or mistyped field reads as None, False or "unknown"), so an old or half-written
    folder still gets a report.
    """

    outcome: Outcome = "unknown"
    description: str | None = None
    exit_code: int | None = None
    signal_name: str | None = None
    iterations_completed: int | None = None
    wall_time_s: float | None = None
    memory_limit_hit: bool = False
    bad_workload: bool = False
    gpu_process_attribution: str | None = None  # None: no GPU sampler; "unavailable ...": NVML could not attribute
    stopped_early: bool = False
    stop_reason: str | None = None
    settled_at_iteration: int | None = None  # --until-decided: the iterations the settling look judged
    stop_requested_monotonic_s: float | None = None  # ...and when the parent asked the child to stop

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusRecord:
        iterations = _number_or_none(data.get("iterations_completed"))
        settled_at = _number_or_none(data.get("settled_at_iteration"))
        exit_code = data.get("exit_code")
        return cls(
            outcome=outcome_of(data),
            description=_text_or_none(data.get("description")),
            exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
            signal_name=_text_or_none(data.get("signal_name")),
            iterations_completed=None if iterations is None else int(iterations),
            wall_time_s=_number_or_none(data.get("wall_time_s")),
            memory_limit_hit=bool(data.get("memory_limit_hit", False)),
            bad_workload=bool(data.get("bad_workload", False)),
            gpu_process_attribution=_text_or_none(data.get("gpu_process_attribution")),
            stopped_early=bool(data.get("stopped_early", False)),
            stop_reason=_text_or_none(data.get("stop_reason")),
            settled_at_iteration=None if settled_at is None else int(settled_at),
            stop_requested_monotonic_s=_number_or_none(data.get("stop_requested_monotonic_s")),
        )


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class RunRecord:
    """run.json as it is read: the run's command line and times, and its config, environment, samplers, host
    and backend sections as written (dicts: their fields are listed in docs/summary-schema.md and read by
    name through the properties below)."""

    command_line: tuple[Any, ...] = ()
    started_utc: str | None = None
    finished_utc: str | None = None
    interrupted: bool = False
    notes: tuple[Any, ...] = ()
    config: RunConfigJson = field(default_factory=lambda: RunConfigJson())  # RunConfig.to_json() of the run
    environment: EnvironmentJson = field(default_factory=lambda: EnvironmentJson())
    samplers: dict[str, str] = field(default_factory=dict)  # sampler name -> "available" or "unavailable: why"
    host: HostJson = field(default_factory=lambda: HostJson())
    backend: BackendJson = field(default_factory=lambda: BackendJson())  # name, hosts_note, placements (Ray)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        config = _section(data, "config")
        command_line = data.get("command_line") or config.get("command_line") or []
        notes = data.get("notes") or []
        return cls(
            command_line=tuple(command_line) if isinstance(command_line, (list, tuple)) else (),
            started_utc=_text_or_none(data.get("started_utc")),
            finished_utc=_text_or_none(data.get("finished_utc")),
            interrupted=bool(data.get("interrupted", False)),
            notes=tuple(notes) if isinstance(notes, (list, tuple)) else (),
            # The sections as the runner wrote them: each reader below checks the types of what it uses.
            config=cast(RunConfigJson, config), environment=cast(EnvironmentJson, _section(data, "environment")),
            samplers=cast("dict[str, str]", _section(data, "samplers")), host=cast(HostJson, _section(data, "host")),
            backend=cast(BackendJson, _section(data, "backend")),
        )

    @property
    def warmup_steps(self) -> int | None:
        value = _number_or_none(self.config.get("warmup_steps"))
        return int(value) if value is not None and value >= 0 else None

    @property
    def sample_interval_s(self) -> float | None:
        value = _number_or_none(self.config.get("sample_interval_s"))
        return float(value) if value else None

    @property
    def backend_name(self) -> str:
        return str(self.backend.get("name", "local"))

    @property
    def cpu(self) -> str | None:
        return _text_or_none(self.environment.get("cpu"))
