"""The child's record of the steps that are not reading steps: a row of iterations.csv each for the first
EXACT_STEPS steps (as every step had before), and after them a latency block per ~BLOCK_S of the loop
(leakhunt/rundir/latency_blocks.py), so the run folder grows with the run's duration, not with its step count.

Per step the loop hands over one latency, which goes into a preallocated buffer (no object kept, nothing
allocated); at each reading step, or when the buffer is full, the buffered latencies are binned into the open
block's bucket counts with numpy, in chunks through work arrays allocated once, so the recorder's own memory
never moves the child's readings. A block is written (and flushed) once it spans BLOCK_S of wall time (less in
a run planned shorter than MIN_BLOCKS_PER_RUN seconds: every block stays under 1/MIN_BLOCKS_PER_RUN of the
run, so drift windows of a tenth of it are cut finely), at the warm-up's end and at close(): a SIGKILL loses
the open block and the unbinned buffer, nothing before them.
"""

from __future__ import annotations

import array
import os
import time
from pathlib import Path
from typing import TextIO

import numpy as np

from leakhunt.rundir import latency_blocks
from leakhunt.rundir.latency_histogram import SUB_BUCKET_BITS, SUB_BUCKETS

# The first steps (warm-up included) each keep a row: a run of up to ~10k iterations is recorded as before.
EXACT_STEPS = 10_000
# A block spans at least this much of the loop's wall time: ~3,600 rows an hour whatever the step time.
BLOCK_S = 1.0
# ...but a run has at least this many blocks over its planned length (its --duration, or its planned steps at
# the step time of the first steps): a 10-second soak of a fast step gets 50 ms blocks, not ten 1-s ones.
MIN_BLOCKS_PER_RUN = 200
# Values binned per numpy pass; the work arrays have this size (a few hundred KiB in all).
CHUNK_STEPS = 16_384
# Buckets a block can hold: every int64 nanosecond value has one below this.
MAX_BUCKETS = (64 - SUB_BUCKET_BITS) * SUB_BUCKETS
# For benchmarks/long_soak.py only: with this set to 1 the child also writes every blocked measured step's
# latency (float32 seconds, step order) to RAW_LATENCY_FILE, the exact reference the blocks are checked against.
RAW_LATENCY_ENV = "LEAKHUNT_KEEP_RAW_LATENCY"
RAW_LATENCY_FILE = "raw_latency.f32"


class _Block:
    """The open block: where it starts, and its running count, sum, min, max and bucket counts."""

    def __init__(self) -> None:
        self.counts = np.zeros(MAX_BUCKETS, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self.counts[:] = 0
        self.first_step = -1
        self.last_step = -1
        self.steps = 0
        self.start_s = 0.0
        self.end_s = 0.0
        self.sum_s = 0.0
        self.min_s = float("inf")
        self.max_s = 0.0


class LatencyRecorder:
    """Records the steps the loop gives no reading row; the loop calls record() and after_reading()."""

    def __init__(self, strategy_dir: Path, write_row, row_padding: str, warmup_steps: int, capacity: int,
                 planned_steps: int | None = None, planned_duration_s: float | None = None):
        self._write_row = write_row  # iterations.csv's appender (rows of the first EXACT_STEPS steps)
        self._row_padding = row_padding  # the empty signal cells of a row that is not a reading
        self.warmup_steps = warmup_steps
        self.exact_steps = EXACT_STEPS
        self.capacity = max(1, int(capacity))
        # Touched now (a copy of zero bytes), before the child's baseline: its pages never show up as growth.
        self.buffer = array.array("d", bytes(8 * self.capacity))
        self._values = np.frombuffer(self.buffer, dtype=np.float64)
        self._work_ns = np.ones(CHUNK_STEPS)
        self._work_mantissa = np.ones(CHUNK_STEPS)
        self._work_exponent = np.ones(CHUNK_STEPS, dtype=np.int32)
        self._work_shift = np.ones(CHUNK_STEPS, dtype=np.int64)
        self._work_index = np.ones(CHUNK_STEPS, dtype=np.int64)
        self.base = EXACT_STEPS  # the step buffer[0] holds
        self.segment_start_s = time.monotonic()  # when the step `base` started, about
        self.planned_steps, self.planned_duration_s = planned_steps, planned_duration_s
        self.loop_start_s: float | None = None
        self.block_s: float | None = None  # decided at the first block, from the first steps' pace
        self._block = _Block()
        self._blocks_path = strategy_dir / latency_blocks.LATENCY_BLOCKS_FILE
        self._blocks_file: TextIO | None = None
        self.blocks_written = 0
        self._raw_file = (open(strategy_dir / RAW_LATENCY_FILE, "ab")
                          if os.environ.get(RAW_LATENCY_ENV) == "1" else None)

    def record(self, step: int, started_s: float, finished_s: float) -> None:
        """One step that is not a reading step (the hot path: a buffer store once past the exact steps)."""
        if step < self.exact_steps:
            self._write_row(f"{step},{'warmup' if step < self.warmup_steps else 'measure'},{started_s:.6f},"
                            f"{(finished_s - started_s) * 1e3:.4f}{self._row_padding}\n", finished_s)
            self.segment_start_s = finished_s
            return
        position = step - self.base
        if position >= self.capacity:  # only with --signal-every beyond the capacity: readings come sooner
            self._bin_until(step, started_s)
            self.segment_start_s = started_s
            position = 0
        self.buffer[position] = finished_s - started_s

    def after_reading(self, step: int, started_s: float, reading_end_s: float) -> None:
        """At a reading step (after its readings; it started at started_s, its readings ended at reading_end_s):
        bin the steps since the last one; write the block once it spans BLOCK_S."""
        if self.loop_start_s is None:
            self.loop_start_s = started_s
        self._bin_until(step, started_s)
        self.base = max(step + 1, self.exact_steps)
        self.segment_start_s = reading_end_s

    def close(self, steps_done: int, now_s: float) -> None:
        """The loop ended after `steps_done` steps: bin what is buffered and write the open block."""
        self._bin_until(steps_done, now_s)
        self._write_block()
        for handle in (self._blocks_file, self._raw_file):
            if handle is not None:
                handle.close()
        self._blocks_file = self._raw_file = None

    def _bin_until(self, end_step: int, end_s: float) -> None:
        """Bin the buffered steps base..end_step-1 (split at the warm-up's end) into the open block."""
        first = self.base
        if end_step <= first:
            return
        if first < self.warmup_steps < end_step:
            # A block is all warm-up or all measured; the boundary's time is interpolated within the segment.
            boundary_s = self.segment_start_s + (end_s - self.segment_start_s) * (
                (self.warmup_steps - first) / (end_step - first))
            self._add(first, self.warmup_steps, boundary_s)
            self._write_block()
            self.segment_start_s = boundary_s
            first = self.warmup_steps
        self._add(first, end_step, end_s)
        self.base = end_step
        if self.block_s is None:
            self.block_s = self._planned_block_s(end_step, end_s)
        if self._block.end_s - self._block.start_s >= self.block_s:
            self._write_block()

    def _planned_block_s(self, steps_done: int, now_s: float) -> float:
        """BLOCK_S, or less when the run's planned length (at the pace of its first steps) is shorter than
        MIN_BLOCKS_PER_RUN of them."""
        planned_s = self.planned_duration_s or float("inf")
        if self.planned_steps and self.loop_start_s is not None and now_s > self.loop_start_s:
            planned_s = min(planned_s, self.planned_steps * (now_s - self.loop_start_s) / steps_done)
        return min(BLOCK_S, planned_s / MIN_BLOCKS_PER_RUN)

    def _add(self, first: int, end: int, end_s: float) -> None:
        """Steps first..end-1 (buffer positions from first - base) into the open block's counts."""
        block = self._block
        if block.steps == 0:
            block.first_step, block.start_s = first, self.segment_start_s
        block.last_step, block.end_s = end - 1, end_s
        block.steps += end - first
        offset = first - self.base
        if self._raw_file is not None and first >= self.warmup_steps:
            self._values[offset:end - self.base].astype(np.float32).tofile(self._raw_file)
        for start in range(offset, end - self.base, CHUNK_STEPS):
            stop = min(start + CHUNK_STEPS, end - self.base)
            self._bin_chunk(self._values[start:stop])

    def _bin_chunk(self, seconds: np.ndarray) -> None:
        """Bucket counts, sum, min and max of a chunk, through the preallocated work arrays only."""
        size = seconds.size
        block = self._block
        block.sum_s += float(seconds.sum())
        block.min_s = min(block.min_s, float(seconds.min()))
        block.max_s = max(block.max_s, float(seconds.max()))
        ns, mantissa, exponent = self._work_ns[:size], self._work_mantissa[:size], self._work_exponent[:size]
        shift, index = self._work_shift[:size], self._work_index[:size]
        np.multiply(seconds, 1e9, out=ns)
        np.rint(ns, out=ns)
        np.maximum(ns, 0.0, out=ns)
        np.frexp(ns, out=(mantissa, exponent))
        np.subtract(exponent, SUB_BUCKET_BITS + 1, out=shift, casting="unsafe")
        np.maximum(shift, 0, out=shift)
        np.copyto(index, ns, casting="unsafe")
        np.right_shift(index, shift, out=index)
        np.multiply(shift, SUB_BUCKETS, out=shift)
        np.add(index, shift, out=index)
        np.add.at(block.counts, index, 1)

    def _write_block(self) -> None:
        block = self._block
        if block.steps == 0:
            return
        buckets = np.flatnonzero(block.counts)
        phase = "warmup" if block.first_step < self.warmup_steps else "measure"
        line = latency_blocks.block_row(phase, block.first_step, block.last_step, block.steps, block.start_s,
                                        block.end_s, block.sum_s * 1e3, block.min_s * 1e3, block.max_s * 1e3,
                                        buckets, block.counts[buckets])
        blocks_file = self._blocks_file
        if blocks_file is None:
            new_file = not self._blocks_path.exists() or self._blocks_path.stat().st_size == 0
            blocks_file = self._blocks_file = open(self._blocks_path, "a", encoding="utf-8")
            if new_file:
                blocks_file.write(",".join(latency_blocks.LATENCY_BLOCK_COLUMNS) + "\n")
        blocks_file.write(line)
        blocks_file.flush()  # about once a second: what a SIGKILL leaves is every block written
        self.blocks_written += 1
        block.reset()
