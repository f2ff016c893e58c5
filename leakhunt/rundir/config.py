"""Frozen configuration objects for a run, with a JSON round-trip so a child and `report` can read them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

DEFAULT_SAMPLE_INTERVAL_S = 0.1
# The child reads itself (RSS, C heap, Python blocks, TF allocator) every K steps. 0 means "auto": K chosen
# on a time budget from the measured step time (sampling/schedule.py); a positive K forces that period.
DEFAULT_SIGNAL_EVERY_STEPS = 0
# Where the strategies run: "local" (one child after another on this machine, the default, no Ray import) or
# "ray" (one Ray task per strategy, spread over a cluster; leakhunt/backends/).
BACKENDS = ("local", "ray")
ATTRIBUTE_MODES = ("auto", "off")


class StrategySpecJson(TypedDict, total=False):
    """strategy.json (StrategySpec.to_json); total=False because readers take the file as they find it."""

    name: str
    factory: str
    factory_kwargs: dict[str, Any]  # the factory's own keyword arguments: whatever it accepts
    description: str
    code_pattern: str


class RunConfigJson(TypedDict, total=False):
    """run.json's `config` (RunConfig.to_json); total=False: an older folder lacks the newer keys."""

    strategies: list[StrategySpecJson]
    out_dir: str
    iterations: int
    duration_s: float | None
    warmup_steps: int
    sample_interval_s: float
    signal_every_steps: int
    force: bool
    fail_on_leak: bool
    leak_threshold_bytes_per_iter: float
    iteration_timeout_s: float | None
    memory_limit_bytes: int | None
    redact_paths: bool
    show_progress: bool
    until_decided: bool
    backend: str
    ray_address: str | None
    ray_cpus_per_strategy: int | None
    command_line: list[str]
    notes: list[str]
    attribute: str


class ChildTaskJson(TypedDict):
    """task.json: what the child reads at start (ChildTask.to_json)."""

    spec: StrategySpecJson
    strategy_dir: str
    iterations: int
    duration_s: float | None
    warmup_steps: int
    signal_every_steps: int
    final_linger_s: float
    until_decided: bool


@dataclass(frozen=True)
class StrategySpec:
    """One strategy of the run: a factory the child calls once to get the step() to repeat.

    `factory` is "path/to/file.py:FUNC" or "package.module:FUNC". Built-in strategies use a factory in
    leakhunt.strategies with `factory_kwargs` naming the pattern, model, batch, resize, ... .
    """

    name: str
    factory: str
    factory_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    code_pattern: str = ""

    def to_json(self) -> StrategySpecJson:
        return {"name": self.name, "factory": self.factory, "factory_kwargs": dict(self.factory_kwargs),
                "description": self.description, "code_pattern": self.code_pattern}

    @classmethod
    def from_json(cls, data: StrategySpecJson) -> "StrategySpec":
        return cls(
            name=data["name"],
            factory=data["factory"],
            factory_kwargs=dict(data.get("factory_kwargs") or {}),
            description=data.get("description", ""),
            code_pattern=data.get("code_pattern", ""),
        )


@dataclass(frozen=True)
class RunConfig:
    """Everything `leakhunt soak` was asked to do."""

    strategies: tuple[StrategySpec, ...]
    out_dir: Path
    iterations: int
    duration_s: float | None = None
    # No default here (keyword only): SoakOptions states the soak's default (10), code that builds a RunConfig
    # itself says what it wants, and from_json fills what old run folders lack.
    warmup_steps: int = field(kw_only=True)
    sample_interval_s: float = DEFAULT_SAMPLE_INTERVAL_S
    signal_every_steps: int = DEFAULT_SIGNAL_EVERY_STEPS
    force: bool = False
    fail_on_leak: bool = False
    leak_threshold_bytes_per_iter: float = 0.0
    iteration_timeout_s: float | None = None
    memory_limit_bytes: int | None = None
    redact_paths: bool = False
    show_progress: bool = True
    # Stop each strategy once its verdict is settled (analysis/settle.py); iterations/duration are then the
    # maximum. No default, as warmup_steps: SoakOptions' is True (off with --exact).
    until_decided: bool = field(kw_only=True)
    backend: str = "local"
    ray_address: str | None = None  # None: start a local Ray instance
    # CPUs each CPU strategy holds on its Ray node; None: a whole node's cores (no two strategies share a host).
    ray_cpus_per_strategy: int | None = None
    command_line: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # After a strategy's verdict pass judged `leak`: "auto" runs the attribution pass (where the leak is, line
    # by line, in a second child with allocation tracking: leakhunt/attribution/), "off" skips it.
    attribute: str = "auto"

    def to_json(self) -> RunConfigJson:
        # Every field, in the dataclass's order (the file's), with paths and tuples made JSON.
        data = cast(RunConfigJson, dataclasses.asdict(self))
        data["out_dir"] = str(self.out_dir)
        data["strategies"] = [spec.to_json() for spec in self.strategies]
        data["command_line"] = list(self.command_line)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_json(cls, data: RunConfigJson) -> "RunConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        # The file's keys as the dataclass's keyword arguments (keys a newer version added are left out).
        values: dict[str, Any] = {key: value for key, value in data.items() if key in known}
        values["out_dir"] = Path(values["out_dir"])
        values["strategies"] = tuple(StrategySpec.from_json(s) for s in values["strategies"])
        values["command_line"] = tuple(values.get("command_line", ()))
        values["notes"] = tuple(values.get("notes", ()))
        # Folders written before until-decided existed ran every iteration, with no warm-up unless recorded.
        values.setdefault("until_decided", False)
        values.setdefault("warmup_steps", 0)
        return cls(**values)


@dataclass(frozen=True)
class ChildTask:
    """What one child process is told to do (written as JSON next to its data)."""

    spec: StrategySpec
    strategy_dir: Path
    iterations: int
    duration_s: float | None
    warmup_steps: int
    signal_every_steps: int
    # After the last step the child stays alive this long so the parent samples its final memory.
    final_linger_s: float = 0.0
    # The parent looks at the readings while the child runs (flush often; serve its collection requests).
    until_decided: bool = False

    def to_json(self) -> ChildTaskJson:
        return {
            "spec": self.spec.to_json(),
            "strategy_dir": str(self.strategy_dir),
            "iterations": self.iterations,
            "duration_s": self.duration_s,
            "warmup_steps": self.warmup_steps,
            "signal_every_steps": self.signal_every_steps,
            "final_linger_s": self.final_linger_s,
            "until_decided": self.until_decided,
        }

    @classmethod
    def from_json(cls, data: ChildTaskJson) -> "ChildTask":
        return cls(
            spec=StrategySpec.from_json(data["spec"]),
            strategy_dir=Path(data["strategy_dir"]),
            iterations=int(data["iterations"]),
            duration_s=data.get("duration_s"),
            warmup_steps=int(data["warmup_steps"]),
            signal_every_steps=int(data["signal_every_steps"]),
            final_linger_s=float(data.get("final_linger_s", 0.0)),
            until_decided=bool(data.get("until_decided", False)),
        )
