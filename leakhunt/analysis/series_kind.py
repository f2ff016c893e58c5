"""What a memory series measures (bytes or blocks) and how much growth over a run is below its noise floor."""

from __future__ import annotations

from dataclasses import dataclass

PAGE_BYTES = 4096  # RSS moves in whole pages; nothing finer is measurable
# Allocators take memory from the OS in chunks (glibc heap top and mmap threshold up to 32 MiB, Python
# arenas of 256 KiB-1 MiB, TF/BFC regions of MiBs), so a flat workload's RSS can settle a MiB or two above
# where it started. Growth smaller than this over the judged window is never called a leak. At 5000
# iterations it sets a floor of ~420 B/iter, so a 1 KiB/iter leak (5 MB) is still caught.
GROWTH_FLOOR_BYTES = 2 * 1024 * 1024
# Below one byte per iteration nothing is actionable, however long the run.
SLOPE_FLOOR_MIN_BYTES_PER_ITER = 1.0


@dataclass(frozen=True)
class SeriesKind:
    """What a series measures and how much growth over a run is below its noise floor."""

    unit: str  # "bytes" or "blocks"
    min_growth: float  # growth over the judged window never called a leak (allocator granularity)
    # ...nor growth below this many robust sigmas of the points' scatter around the fit.
    noise_sigmas: float = 0.0
    iteration_aligned: bool = True  # read by the child at the end of a step (vs the parent's clock)
    min_slope: float = SLOPE_FLOOR_MIN_BYTES_PER_ITER  # below this rate nothing is actionable


# RSS: pages, plus allocator chunks (glibc heap top, mmap threshold, Python arenas, TF regions).
RSS_KIND = SeriesKind("bytes", 2 * 1024 * 1024)
# The C heap counts bytes in use: a flat loop's in-use bytes come back to the same level at the same point
# of the loop, so a much smaller floor holds. 64 KiB is a few of TF's per-thread caches filling; growth
# below two sigmas of the scatter (other threads allocating at the reading) is not called a leak either.
HEAP_KIND = SeriesKind("bytes", 64 * 1024, noise_sigmas=2.0)
# Python's live blocks: caches (type attribute cache, interned strings, freelists) settle within a few
# thousand blocks; beyond that a count that keeps rising is objects kept per call.
PY_BLOCKS_KIND = SeriesKind("blocks", 2000, noise_sigmas=2.0, min_slope=0.01)
PARENT_KIND = SeriesKind("bytes", 2 * 1024 * 1024, iteration_aligned=False)
TF_ALLOCATOR_KIND = SeriesKind("bytes", 2 * 1024 * 1024)


def noise_floor_bytes_per_iter(span_iterations: float, growth_floor: float = GROWTH_FLOOR_BYTES,
                               min_slope: float = SLOPE_FLOOR_MIN_BYTES_PER_ITER) -> float:
    """The smallest slope that is more than `growth_floor` (allocator granularity) over `span_iterations`."""
    if span_iterations <= 0:
        return float("inf")
    return max(min_slope, growth_floor / span_iterations)
