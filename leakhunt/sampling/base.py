"""The small interface every sampler implements: probe once, then sample a pid many times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Probe:
    """Whether a sampler can run here; `reason` is what the run metadata records when it cannot."""

    available: bool
    reason: str = ""

    def describe(self) -> str:
        return "available" if self.available else f"unavailable: {self.reason}"


class Sampler:
    """probe() once per run; sample(pid) returns a dict of SAMPLE_COLUMNS values (missing = None)."""

    name = "sampler"

    def probe(self) -> Probe:
        raise NotImplementedError

    def sample(self, pid: int) -> dict[str, Any]:
        raise NotImplementedError

    def close(self) -> None:
        """Release whatever probe() acquired."""
