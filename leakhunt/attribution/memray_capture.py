"""memray as the allocation tracker of the attribution pass: every allocation with its Python stack, Python's
own allocators apart from malloc/mmap (so "python" and "native" bytes are told apart without double counting).

Native frames are not recorded (native_traces off): the Python stack is what points at the user's line, and
native unwinding costs ~8-13x per TF step and resolving its symbols 10-20 s per pass on TensorFlow's libraries
(measured, docs/benchmarks.md). memray's reader gives each allocation's lifetime in snapshot indices (a
snapshot every MEMORY_INTERVAL_MS); a marker allocation held across each checkpoint says which snapshot
that checkpoint was, so every site's live bytes are read exactly at the checkpoints.

memray does not see malloc called through a pointer it did not patch (ctypes.CDLL(None).malloc): the C-heap
witness (heap_witness.py) covers that.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from leakhunt.attribution.site_series import SiteTable

MEMORY_INTERVAL_MS = 5
PYMALLOC_LIMIT_BYTES = 512  # larger requests go from Python's allocator to malloc
# The marker is held this long at every checkpoint, so that at least one snapshot falls while it lives.
MARKER_HOLD_S = 0.04
# Marker sizes: unique and large enough to find among the records, one per checkpoint (its size tells which).
MARKER_BASE_BYTES = 3_141_000
MARKER_STEP_BYTES = 4096  # larger than the bytearray's own header, which may share the interval


def memray_unavailable_reason() -> str | None:
    """None when memray can track here, else why not (said once in the report)."""
    try:
        import memray  # noqa: F401
    except ImportError as error:
        return f"memray cannot be imported here ({error}); Python allocations only, through tracemalloc"
    return None


def _hold_marker(index: int) -> None:
    marker = bytearray(MARKER_BASE_BYTES + MARKER_STEP_BYTES * index)
    time.sleep(MARKER_HOLD_S)
    del marker


def _is_marker(stack: Any) -> bool:
    return bool(stack) and stack[0][0] == "_hold_marker" and stack[0][1] == __file__


class MemrayCapture:
    """Start, mark checkpoints, stop, then read every site's live bytes at each checkpoint."""

    def __init__(self, capture_path: Path):
        self.capture_path = capture_path
        self._tracker: Any = None
        self.checkpoints = 0

    def start(self) -> None:
        import memray

        self.capture_path.unlink(missing_ok=True)
        self._tracker = memray.Tracker(str(self.capture_path), native_traces=False, trace_python_allocators=True,
                                       memory_interval_ms=MEMORY_INTERVAL_MS)
        self._tracker.__enter__()

    def checkpoint(self) -> None:
        _hold_marker(self.checkpoints)
        self.checkpoints += 1

    def stop(self) -> None:
        if self._tracker is not None:
            tracker, self._tracker = self._tracker, None
            tracker.__exit__(None, None, None)

    def read_sites(self, table: SiteTable) -> list[int | None]:
        """Fill `table` from the capture (None where a checkpoint's snapshot was missed); returns the snapshot
        index of each checkpoint."""
        import memray

        reader = memray.FileReader(str(self.capture_path))
        records = list(reader.get_temporal_allocation_records(merge_threads=True))
        snapshots = self._checkpoint_snapshots(records)
        python_allocators = {memray.AllocatorType.PYMALLOC_MALLOC, memray.AllocatorType.PYMALLOC_CALLOC,
                             memray.AllocatorType.PYMALLOC_REALLOC}
        for record in records:
            live = [None if snapshot is None else _live_bytes(record.intervals, snapshot) for snapshot in snapshots]
            if not any(live):
                continue
            stack = record.stack_trace()
            if _is_marker(stack):
                continue
            if record.allocator in python_allocators:
                kind = _python_kind(record.intervals)
            else:  # mmap called directly (not malloc's own) is outside the C heap the witness reads
                kind = "native_mmap" if record.allocator == memray.AllocatorType.MMAP else "native"
            table.add(stack, kind, live, stack_key=record.stack_id)
        reader.close()
        return snapshots

    def _checkpoint_snapshots(self, records: list[Any]) -> list[int | None]:
        snapshots: list[int | None] = [None] * self.checkpoints
        for record in records:
            if not _is_marker(record.stack_trace()):
                continue
            for interval in record.intervals:
                if interval.n_allocations > 2 or interval.deallocated_before_snapshot is None:
                    continue
                index = (interval.n_bytes - MARKER_BASE_BYTES) // MARKER_STEP_BYTES
                held = interval.deallocated_before_snapshot > interval.allocated_before_snapshot
                if 0 <= index < self.checkpoints and held:
                    snapshots[index] = interval.allocated_before_snapshot
        return snapshots

    def close(self) -> None:
        self.stop()
        self.capture_path.unlink(missing_ok=True)


def _python_kind(intervals: Any) -> str:
    """"python" for objects above pymalloc's limit (they live in the C heap, where the witness sees them),
    "python_small" for the ones in pymalloc's own arenas (mmapped: never in the C heap)."""
    count = sum(interval.n_allocations for interval in intervals)
    size = sum(interval.n_bytes for interval in intervals)
    return "python" if count and size / count > PYMALLOC_LIMIT_BYTES else "python_small"


def _live_bytes(intervals: Any, snapshot: int) -> int:
    """Bytes of a record alive at a snapshot: allocated before it and not freed before it."""
    total = 0
    for interval in intervals:
        freed = interval.deallocated_before_snapshot
        if interval.allocated_before_snapshot <= snapshot and (freed is None or freed > snapshot):
            total += interval.n_bytes
    return total
