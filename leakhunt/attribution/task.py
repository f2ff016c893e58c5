"""What the attribution child is told to do (attribution-task.json, written by the parent)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from leakhunt.rundir.config import StrategySpec, StrategySpecJson

TRACKERS = ("auto", "tracemalloc")  # auto: memray where it runs, else tracemalloc


class AttributionTaskJson(TypedDict):
    """attribution-task.json: AttributionTask's fields, the spec and folder as JSON."""

    spec: StrategySpecJson
    strategy_dir: str
    warmup_steps: int
    iterations: int
    checkpoints: int
    tracked_time_limit_s: float
    tracker: str


@dataclass(frozen=True)
class AttributionTask:
    spec: StrategySpec
    strategy_dir: Path  # the verdict pass's folder: attribution.json goes there, nothing else is touched
    warmup_steps: int  # untracked steps first, so caches fill before tracking starts
    iterations: int  # tracked steps
    checkpoints: int  # readings of every site, evenly spread over the tracked steps (the first at 0)
    tracked_time_limit_s: float  # past this, the child takes its last checkpoint and stops early
    tracker: str = "auto"

    def to_json(self) -> AttributionTaskJson:
        return {"spec": self.spec.to_json(), "strategy_dir": str(self.strategy_dir),
                "warmup_steps": self.warmup_steps, "iterations": self.iterations, "checkpoints": self.checkpoints,
                "tracked_time_limit_s": self.tracked_time_limit_s, "tracker": self.tracker}

    @classmethod
    def from_json(cls, data: AttributionTaskJson) -> "AttributionTask":
        return cls(spec=StrategySpec.from_json(data["spec"]), strategy_dir=Path(data["strategy_dir"]),
                   warmup_steps=int(data["warmup_steps"]), iterations=int(data["iterations"]),
                   checkpoints=int(data["checkpoints"]), tracked_time_limit_s=float(data["tracked_time_limit_s"]),
                   tracker=str(data.get("tracker", "auto")))


def checkpoint_iterations(iterations: int, checkpoints: int) -> list[int]:
    """The tracked iterations after which every site is read: 0 (before the first tracked step) to `iterations`."""
    intervals = max(1, min(checkpoints - 1, iterations))
    return sorted({round(iterations * index / intervals) for index in range(intervals + 1)})
