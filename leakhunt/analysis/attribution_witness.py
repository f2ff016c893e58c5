"""The C-heap witness read against the allocation tracker: which lines grew the heap by more than the tracker
saw there (native growth no tracker sees, e.g. malloc through ctypes), and whether that can be said at all.

The witness charges each line of the user's code with the heap's change while it ran, frees included: a line
that makes a buffer and a later line of the same function that drops it are charged +X and -X per call,
though nothing leaks. So a line is named only when (1) its excess over the tracker keeps growing, (2) it is
not cancelled by a matching negative line of the same function, and (3) the named lines add up to the
excess of all lines together (within EXCESS_MATCH_SHARE); otherwise the growth is "native, not attributable".
Pure: series in, frozen results out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from leakhunt.analysis.attribution_fit import fit_site

# Two lines of one function cancel when their excesses are opposite and equal within this share.
CANCEL_SHARE = 0.1
# The named lines must account for the whole excess within this share of it.
EXCESS_MATCH_SHARE = 0.25


@dataclass(frozen=True)
class UnseenGrowth:
    """Heap growth the tracker did not see: per named line, and in all (bytes per iteration)."""

    by_line: dict[tuple[str, int], float]
    total_bytes_per_iter: float
    candidates: tuple[tuple[str, int], ...]  # lines that grew unseen but could not be named (ambiguous)


def _excesses(witness_lines: Sequence[dict[str, Any]], tracked_heap: dict[tuple[str, int], list[float | None]],
              iterations: Sequence[float]) -> list[tuple[tuple[str, int], str, float, bool]]:
    """(key, function, excess slope, still growing) for every witnessed line."""
    found = []
    for line in witness_lines:
        key = (str(line.get("file")), int(line.get("line") or 0))
        witnessed = fit_site(iterations, line.get("bytes") or [])
        if witnessed is None:
            continue
        tracked = fit_site(iterations, tracked_heap.get(key, []))
        tracked_slope = 0.0 if tracked is None else tracked.slope_bytes_per_iter
        growing = witnessed.ci95_bytes_per_iter[0] > 0 and witnessed.recent_slope_bytes_per_iter > 0
        found.append((key, str(line.get("function")), witnessed.slope_bytes_per_iter - tracked_slope, growing))
    return found


def _cancel_pairs(excesses: list[tuple[tuple[str, int], str, float, bool]], floor: float) -> set[tuple[str, int]]:
    """Lines whose excess a line of the same function gives back (made and freed within one call)."""
    cancelled: set[tuple[str, int]] = set()
    negatives = [entry for entry in excesses if entry[2] <= -floor]
    for key, function, excess, _ in sorted(negatives, key=lambda entry: entry[2]):
        matches = [entry for entry in excesses if entry[0] not in cancelled and entry[2] >= floor
                   and entry[1] == function and entry[0][0] == key[0]
                   and abs(entry[2] + excess) <= CANCEL_SHARE * max(entry[2], -excess)]
        if matches:
            best = min(matches, key=lambda entry: abs(entry[2] + excess))
            cancelled.update({best[0], key})
    return cancelled


def unseen_growth(witness_lines: Sequence[dict[str, Any]],
                  tracked_heap: dict[tuple[str, int], list[float | None]], iterations: Sequence[float],
                  floor: float) -> UnseenGrowth:
    """Name the lines whose heap growth the tracker missed, when the evidence allows it."""
    excesses = _excesses(witness_lines, tracked_heap, iterations)
    total = sum(entry[2] for entry in excesses)
    if total < floor:
        return UnseenGrowth({}, max(total, 0.0), ())
    cancelled = _cancel_pairs(excesses, floor)
    named = {entry[0]: entry[2] for entry in excesses
             if entry[0] not in cancelled and entry[2] >= floor and entry[3]}
    if named and abs(sum(named.values()) - total) <= EXCESS_MATCH_SHARE * total + floor:
        return UnseenGrowth(named, total, ())
    return UnseenGrowth({}, total, tuple(sorted(named)))
