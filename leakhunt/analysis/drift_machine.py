"""How fast the machine itself was along a run, window by window, for the latency drift test (analysis/drift.py):
the fixed reference kernels the child timed (sampling/machine_speed.py) and, for a CPU-bound child, the share of
a CPU it got per wall second (a starved child loses time slices the short kernel slips between).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Fewer reference readings than this cannot describe how the machine's speed moved: no correction.
REFERENCE_MIN_READINGS = 8
# A window's reference level needs this many kernel readings (one preempted reading is not the machine): a window
# with fewer takes its neighbours' too. The first and the last fifth need this many for drift to be judged at all.
REFERENCE_MIN_PER_WINDOW = 3
# A machine whose slowness stayed within this share of its median everywhere did not change: no correction
# then (correcting by the signals' own jitter would only add noise).
MACHINE_NOISE_FRACTION = 0.05
# The child counts as CPU-bound when it usually gets at least this much CPU per wall second (all threads).
CPU_BOUND_MIN_SHARE = 0.6

Bounds = tuple[tuple[float, float], ...]  # each drift window's first and last measured iteration


def fifth_masks(x: np.ndarray, first_x: float, last_x: float) -> tuple[np.ndarray, np.ndarray]:
    span = last_x - first_x
    return x <= first_x + span / 5, x >= last_x - span / 5


@dataclass(frozen=True)
class MachineSpeed:
    """How slow the machine was in each drift window and from the first to the last fifth (1.0 = median)."""

    window_slowness: np.ndarray
    change_first_to_last_fifth: float  # 0.0 when within the signals' own noise


@dataclass(frozen=True)
class CpuReadings:
    """The child's cumulative process CPU time at its reading steps, with the wall clock at the same point."""

    iteration: np.ndarray
    wall_s: np.ndarray
    cpu_s: np.ndarray


def _kernel_slowness(bounds: Bounds, reference_x: np.ndarray, reference_ms: np.ndarray) -> np.ndarray | None:
    """Per window: the reference kernel's median there / its median over the run (None: too few readings)."""
    keep = np.isfinite(reference_x) & np.isfinite(reference_ms) & (reference_ms > 0)
    reference_x, reference_ms = reference_x[keep], reference_ms[keep]
    if reference_ms.size < REFERENCE_MIN_READINGS:
        return None
    overall = float(np.median(reference_ms))
    levels = [float(np.median(_readings_around(bounds, index, reference_x, reference_ms))) / overall
              for index in range(len(bounds))]
    # Relative to its fastest window (1.0 = the machine at its best), like the CPU share's slowness.
    return np.array(levels) / min(levels)


def _readings_around(bounds: Bounds, index: int, reference_x: np.ndarray, reference_ms: np.ndarray) -> np.ndarray:
    """The kernel readings in window `index`, widened to its neighbours until there are at least
    REFERENCE_MIN_PER_WINDOW (one preempted reading must not stand for a window; a short run has few)."""
    inside = reference_ms[:0]
    for reach in range(len(bounds)):
        low = bounds[max(0, index - reach)][0]
        high = bounds[min(len(bounds) - 1, index + reach)][1]
        inside = reference_ms[(reference_x >= low) & (reference_x <= high)]
        if inside.size >= REFERENCE_MIN_PER_WINDOW:
            break
    return inside


def machine_read_at_ends(bounds: Bounds, reference_x: np.ndarray, reference_ms: np.ndarray) -> bool:
    """At least REFERENCE_MIN_PER_WINDOW kernel readings in the first fifth and in the last fifth."""
    known = reference_x[np.isfinite(reference_x) & np.isfinite(reference_ms) & (reference_ms > 0)]
    first_mask, last_mask = fifth_masks(known, bounds[0][0], bounds[-1][1])
    return bool(first_mask.sum() >= REFERENCE_MIN_PER_WINDOW and last_mask.sum() >= REFERENCE_MIN_PER_WINDOW)


def _cpu_slowness(bounds: Bounds, cpu: CpuReadings | None) -> np.ndarray | None:
    """Per window: how much less CPU per wall second the child got than it usually did (1.0 = usual).

    A CPU-bound child that gets half the CPU because neighbours compete takes twice as long per step while
    its CPU time per step stays the same. A GPU-bound or sleeping child uses little CPU whatever the load,
    so the signal is only used where the child is CPU-bound (usually busy at least CPU_BOUND_MIN_SHARE).
    """
    if cpu is None:
        return None
    keep = np.isfinite(cpu.iteration) & np.isfinite(cpu.wall_s) & np.isfinite(cpu.cpu_s)
    iteration, wall_s, cpu_s = cpu.iteration[keep], cpu.wall_s[keep], cpu.cpu_s[keep]
    shares = []
    for low, high in bounds:
        inside = (iteration >= low) & (iteration <= high)
        if inside.sum() < 2:
            shares.append(np.nan)
            continue
        wall = float(wall_s[inside][-1] - wall_s[inside][0])
        shares.append(float(cpu_s[inside][-1] - cpu_s[inside][0]) / wall if wall > 0 else np.nan)
    share = np.array(shares)
    if not np.isfinite(share).any():
        return None
    if float(np.nanmedian(share)) < CPU_BOUND_MIN_SHARE:
        return None
    # Relative to its best windows (1.0 = unstarved), like the kernel's slowness, so the two compare.
    best = float(np.nanmax(share))
    return _fill_unknown(best / np.maximum(share, 1e-9))


def _fill_unknown(levels: np.ndarray) -> np.ndarray | None:
    known = np.isfinite(levels)
    if not known.any():
        return None
    positions = np.arange(levels.size)
    return np.interp(positions, positions[known], levels[known])


def machine_speed(bounds: Bounds, reference_x: np.ndarray, reference_ms: np.ndarray,
                  cpu: CpuReadings | None = None) -> MachineSpeed | None:
    """The machine's relative slowness per drift window (`bounds`): the larger of what the reference kernel and
    the child's CPU share say (the kernel is short enough to slip between a neighbour's time slices; the CPU
    share sees every slice the child lost). A change within MACHINE_NOISE_FRACTION is taken as none."""
    kernel = _kernel_slowness(bounds, reference_x, reference_ms)
    starved = _cpu_slowness(bounds, cpu)
    signals = [signal for signal in (kernel, starved) if signal is not None]
    if not signals:
        return None
    slowness = signals[0] if len(signals) == 1 else np.maximum(signals[0], signals[1])
    slowness = slowness / float(np.median(slowness))
    fifth = max(1, slowness.size // 5)
    change = float(np.mean(slowness[-fifth:]) / np.mean(slowness[:fifth]) - 1.0)
    if abs(change) < MACHINE_NOISE_FRACTION and np.all(np.abs(slowness - 1) < MACHINE_NOISE_FRACTION):
        return MachineSpeed(np.ones_like(slowness), 0.0)
    return MachineSpeed(slowness, change)
