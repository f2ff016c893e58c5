"""The C-heap witness read against the allocation tracker: which lines grew the heap by more than the tracker
saw there (native growth no tracker sees, e.g. malloc through ctypes), and whether that can be said at all.

The witness charges each line of the user's code with the heap's change while it ran, frees included: a line
that makes a buffer and a later line of the same function that drops it (or its return, when locals go) are
charged +X and -X per call, though nothing leaks. The total to explain is not the witness's but the
checkpoints': the heap's growth over the pass less what the tracker saw in the heap. A line is named only
when (1) its excess over the tracker keeps growing, (2) its function kept that much in all (the lines of one
function net out), and (3) it belongs to the one smallest set of such lines whose excesses add up to that
total (within EXCESS_MATCH_SHARE); otherwise the growth is "native, not attributable". Pure: series in,
frozen results out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from leakhunt.analysis.attribution_fit import fit_site

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import WitnessLineRecord

# The named lines must account for the whole unseen growth within this share of it.
EXCESS_MATCH_SHARE = 0.25
MAX_CANDIDATES = 10  # sets of candidate lines are searched exhaustively: 2**10 sums at most


@dataclass(frozen=True)
class UnseenGrowth:
    """Heap growth the tracker did not see: per named line, and in all (bytes per iteration)."""

    by_line: dict[tuple[str, int], float]
    total_bytes_per_iter: float
    candidates: tuple[tuple[str, int], ...]  # lines that grew unseen but could not be named (ambiguous)
    half_widths: dict[tuple[str, int], float] = field(default_factory=dict)  # of each named line's 95% interval


def _excesses(witness_lines: Sequence[WitnessLineRecord], tracked_heap: dict[tuple[str, int], list[float | None]],
              iterations: Sequence[float], half_widths: dict[tuple[str, int], float]
              ) -> list[tuple[tuple[str, int], str, float, bool]]:
    """(key, function, excess slope, still growing) for every witnessed line; fills each line's half width."""
    found = []
    for line in witness_lines:
        key = (str(line.get("file")), int(line.get("line") or 0))
        witnessed = fit_site(iterations, line.get("bytes") or [])
        if witnessed is None:
            continue
        tracked = fit_site(iterations, tracked_heap.get(key, []))
        tracked_slope = 0.0 if tracked is None else tracked.slope_bytes_per_iter
        growing = witnessed.ci95_bytes_per_iter[0] > 0 and witnessed.recent_slope_bytes_per_iter > 0
        low, high = witnessed.ci95_bytes_per_iter
        half_widths[key] = (high - low) / 2
        found.append((key, str(line.get("function")), witnessed.slope_bytes_per_iter - tracked_slope, growing))
    return found


def _function_nets(excesses: list[tuple[tuple[str, int], str, float, bool]]) -> dict[tuple[str, str], float]:
    """Each function's net excess: a buffer made on one line and dropped on another (or when the function
    returns) adds nothing, so a line can only be named up to what its function kept in all."""
    nets: dict[tuple[str, str], float] = {}
    for key, function, excess, _ in excesses:
        nets[(key[0], function)] = nets.get((key[0], function), 0.0) + excess
    return nets


def _matching_lines(candidates: dict[tuple[str, int], float], total: float,
                    floor: float) -> tuple[tuple[str, int], ...] | None:
    """The unique smallest set of candidate lines whose excesses add up to `total`; None if none or several."""
    keys = sorted(candidates, key=lambda key: -candidates[key])[:MAX_CANDIDATES]
    for size in range(1, len(keys) + 1):
        matches = [subset for subset in itertools.combinations(keys, size)
                   if abs(sum(candidates[key] for key in subset) - total) <= EXCESS_MATCH_SHARE * total + floor]
        if matches:
            return matches[0] if len(matches) == 1 else None
    return None


def unseen_growth(witness_lines: Sequence[WitnessLineRecord],
                  tracked_heap: dict[tuple[str, int], list[float | None]], iterations: Sequence[float],
                  floor: float, unseen_total: float) -> UnseenGrowth:
    """Name the lines whose heap growth the tracker missed (`unseen_total` bytes per iteration in all: the
    checkpoints' heap slope less the tracker's heap bytes), when the evidence allows it."""
    if unseen_total < floor:
        return UnseenGrowth({}, max(unseen_total, 0.0), ())
    half_widths: dict[tuple[str, int], float] = {}
    excesses = _excesses(witness_lines, tracked_heap, iterations, half_widths)
    nets = _function_nets(excesses)
    candidates = {key: excess for key, function, excess, growing in excesses
                  if growing and excess >= floor
                  and nets[(key[0], function)] >= (1 - EXCESS_MATCH_SHARE) * excess - floor}
    named = _matching_lines(candidates, unseen_total, floor)
    if named:
        return UnseenGrowth({key: candidates[key] for key in named}, unseen_total, (),
                            {key: half_widths[key] for key in named})
    return UnseenGrowth({}, unseen_total, tuple(sorted(candidates, key=lambda key: -candidates[key])))
