"""How long until memory runs out, at the measured slope."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exhaustion:
    resource: str  # "host_memory" or "gpu_memory"
    capacity_bytes: float
    headroom_bytes: float  # what is left after the level the strategy ended at
    slope_bytes_per_iter: float
    iterations_to_exhaust: float
    time_to_exhaust_s: float | None


def project_exhaustion(resource: str, capacity_bytes: float | None, used_bytes: float | None,
                       slope_bytes_per_iter: float | None,
                       seconds_per_iteration: float | None) -> Exhaustion | None:
    """None unless memory grows and the capacity is known."""
    if capacity_bytes is None or used_bytes is None or slope_bytes_per_iter is None:
        return None
    if slope_bytes_per_iter <= 0 or capacity_bytes <= 0:
        return None
    headroom = max(float(capacity_bytes) - float(used_bytes), 0.0)
    iterations = headroom / slope_bytes_per_iter
    seconds = iterations * seconds_per_iteration if seconds_per_iteration else None
    return Exhaustion(resource, float(capacity_bytes), headroom, float(slope_bytes_per_iter), iterations, seconds)
