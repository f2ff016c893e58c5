"""tracemalloc as the tracker where memray cannot run: Python's allocations (and NumPy's buffers, which NumPy
reports to tracemalloc) by stack, read at every checkpoint. Native allocations are then the C-heap witness's
alone (heap_witness.py).

tracemalloc records no function names, only file and line; it walks up to TRACEBACK_FRAMES frames per
allocation, which is why it costs more per step than memray on TensorFlow's deep stacks.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from leakhunt.attribution.frames import Frame
from leakhunt.attribution.site_series import SiteTable

PYMALLOC_LIMIT_BYTES = 512
TRACEBACK_FRAMES = 64  # deep enough to reach the user's frame under Keras and tf.function call stacks


class TracemallocCapture:
    """Per-checkpoint snapshots of tracemalloc, reduced to each stack's live bytes."""

    def __init__(self) -> None:
        self._by_stack: dict[Any, list[float | None]] = {}
        self._stacks: dict[Any, tuple[Frame, ...]] = {}
        self.checkpoints = 0
        self._started_here = False

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(TRACEBACK_FRAMES)
            self._started_here = True

    def checkpoint(self) -> None:
        snapshot = tracemalloc.take_snapshot()
        totals: dict[Any, float] = {}
        for trace in snapshot.traces:
            # Like memray_capture: objects above pymalloc's limit live in the C heap, smaller ones in its arenas.
            key = (trace.traceback, trace.size > PYMALLOC_LIMIT_BYTES)
            totals[key] = totals.get(key, 0.0) + trace.size
        index = self.checkpoints
        for key, size in totals.items():
            series = self._by_stack.get(key)
            if series is None:
                series = self._by_stack[key] = [0.0] * index
                # Traceback iterates oldest first; sites are found innermost first. No function names here.
                self._stacks[key] = tuple(("", frame.filename, frame.lineno) for frame in reversed(list(key[0])))
            series.append(size)
        for series in self._by_stack.values():
            if len(series) == index:
                series.append(0.0)
        self.checkpoints += 1

    def stop(self) -> None:
        if self._started_here and tracemalloc.is_tracing():
            tracemalloc.stop()
            self._started_here = False

    def read_sites(self, table: SiteTable) -> None:
        for key, live in self._by_stack.items():
            if any(live):
                table.add(self._stacks[key], "python" if key[1] else "python_small", live, stack_key=key[0])

    def close(self) -> None:
        self.stop()
