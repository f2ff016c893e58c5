"""latency_blocks.csv: the latency of the steps that have no row of their own in iterations.csv, one row per
block of steps (about a second of the loop), as a mergeable summary: count, sum, min, max and the log-linear
bucket counts of leakhunt/rundir/latency_histogram.py. The file's layout and its columnar reader (docs/run-folder.md).

A block's steps are those between its first and last step that are not rows of iterations.csv (the reading
steps in between are rows there), so iterations.csv and this file never count a step twice, and both
together count every step the child finished up to the last flush.

The reader holds at most MAX_BLOCKS_HELD blocks: a longer file (an 8-hour soak writes ~29,000) is read in
chunks and runs of 2, 4, 8... consecutive blocks are merged as they come (counts add), so its memory stays
bounded whatever the run's length; spans of iterations are then exact to within one merged block.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

LATENCY_BLOCKS_FILE = "latency_blocks.csv"
LATENCY_BLOCK_COLUMNS = ("phase", "first_step", "last_step", "steps", "start_monotonic_s", "end_monotonic_s",
                         "sum_ms", "min_ms", "max_ms", "buckets")
# `buckets`: runs of counts of consecutive buckets, tokens separated by spaces (no comma: a plain CSV cell).
# "183:1 4 0 7" is 1 step in bucket 183, 4 in 184, none in 185, 7 in 186; a token "b:c" starts a run at
# bucket b. A gap of up to RUN_GAP_FILL empty buckets is written as zeros, a wider one starts a new run.
RUN_GAP_FILL = 2
# At most this many blocks are held in memory (~70 min of 1-second blocks before merging starts).
MAX_BLOCKS_HELD = 4096
CHUNK_ROWS = 1024  # rows parsed at a time; a multiple of every merge factor


def buckets_cell(buckets: list[int], counts: list[int]) -> str:
    """The `buckets` cell of non-empty buckets (ascending) and their counts."""
    tokens: list[str] = []
    previous = None
    for bucket, count in zip(buckets, counts, strict=True):
        if previous is not None and bucket - previous - 1 <= RUN_GAP_FILL:
            tokens.extend("0" * (bucket - previous - 1))
            tokens.append(str(count))
        else:
            tokens.append(f"{bucket}:{count}")
        previous = bucket
    return " ".join(tokens)


def block_row(phase: str, first_step: int, last_step: int, steps: int, start_s: float, end_s: float,
              sum_ms: float, min_ms: float, max_ms: float, buckets: np.ndarray, counts: np.ndarray) -> str:
    """One line of latency_blocks.csv."""
    return (f"{phase},{first_step},{last_step},{steps},{start_s:.6f},{end_s:.6f},{sum_ms:.6f},{min_ms:.6f},"
            f"{max_ms:.6f},{buckets_cell(buckets.tolist(), counts.tolist())}\n")


@dataclass(frozen=True)
class LatencyBlocks:
    """Columnar blocks of one strategy (one entry per block, in step order); bucket counts in CSR form: block
    i's buckets are bucket[offsets[i]:offsets[i + 1]] with their counts in count[...]."""

    measured: np.ndarray  # bool: phase == "measure"
    first_step: np.ndarray
    last_step: np.ndarray
    steps: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    sum_ms: np.ndarray
    min_ms: np.ndarray
    max_ms: np.ndarray
    offsets: np.ndarray
    bucket: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return int(self.first_step.size)

    def select(self, keep: np.ndarray) -> LatencyBlocks:
        """The blocks where `keep` is True, their bucket counts with them."""
        keep = np.asarray(keep, dtype=bool)
        lengths = np.diff(self.offsets)
        entry_kept = np.repeat(keep, lengths)
        per_block = {f.name: getattr(self, f.name)[keep] for f in fields(self)
                     if f.name not in ("offsets", "bucket", "count")}
        return LatencyBlocks(**per_block, offsets=np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64),
                             bucket=self.bucket[entry_kept], count=self.count[entry_kept])


    def measured_only(self) -> LatencyBlocks:
        """The measured blocks: a view when the warm-up's blocks all come first (as the child writes them)."""
        start = int(np.argmax(self.measured)) if self.measured.any() else len(self)
        if not self.measured[start:].all():
            return self.select(self.measured)
        low = self.offsets[start]
        per_block = {f.name: getattr(self, f.name)[start:] for f in fields(self)
                     if f.name not in ("offsets", "bucket", "count")}
        return LatencyBlocks(**per_block, offsets=self.offsets[start:] - low, bucket=self.bucket[low:],
                             count=self.count[low:])

    def merged(self, group: np.ndarray) -> LatencyBlocks:
        """Consecutive blocks with the same `group` id (ascending) merged into one: counts and sums add."""
        groups, inverse = np.unique(group, return_inverse=True)
        size = groups.size

        def reduce(ufunc, values, initial):
            result = np.full(size, initial, dtype=np.asarray(values).dtype)
            ufunc.at(result, inverse, values)
            return result

        # The groups' counts as one dense (group, bucket) table: no sort of the entries.
        width = int(self.bucket.max(initial=0)) + 1
        table = np.bincount(np.repeat(inverse, np.diff(self.offsets)) * width + self.bucket, weights=self.count,
                            minlength=size * width)
        keys = np.flatnonzero(table)
        first = np.full(size, -1)
        first[inverse[::-1]] = np.arange(inverse.size)[::-1]
        return LatencyBlocks(
            measured=self.measured[first], first_step=reduce(np.minimum, self.first_step, np.iinfo(np.int64).max),
            last_step=reduce(np.maximum, self.last_step, -1), steps=np.bincount(inverse, self.steps).astype(np.int64),
            start_s=reduce(np.minimum, self.start_s, np.inf), end_s=reduce(np.maximum, self.end_s, -np.inf),
            sum_ms=np.bincount(inverse, self.sum_ms, minlength=size), min_ms=reduce(np.minimum, self.min_ms, np.inf),
            max_ms=reduce(np.maximum, self.max_ms, -np.inf),
            offsets=np.concatenate([[0], np.cumsum(np.bincount(keys // width, minlength=size))]).astype(np.int64),
            bucket=keys % width, count=table[keys].astype(np.int64))


def concatenate_blocks(parts: list[LatencyBlocks]) -> LatencyBlocks:
    """Blocks of consecutive chunks as one set."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return empty_blocks()
    per_block = {f.name: np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(LatencyBlocks)
                 if f.name != "offsets"}
    lengths = np.concatenate([np.diff(part.offsets) for part in parts])
    return LatencyBlocks(**per_block, offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def empty_blocks() -> LatencyBlocks:
    integers, floats = np.empty(0, dtype=np.int64), np.empty(0)
    return LatencyBlocks(np.empty(0, dtype=bool), integers, integers, integers, floats, floats, floats, floats,
                         floats, np.zeros(1, dtype=np.int64), integers, integers)


_CELL = re.compile(r"\d+:\d+( \d+(:\d+)?)*")  # a run's start first, then counts and further runs
_CHARACTERS = re.compile(r"[0-9 :]*")
_CELL_START, _RUN_START = -3, -2  # markers: buckets and counts are never negative


def _cells_text(cells: pd.Series) -> tuple[list[str], np.ndarray]:
    """The cells as text, and which are well-formed. Only a file with a stray character pays for the per-cell
    check; the structure of the others is checked on their numbers (_parse_cells)."""
    text = cells.fillna("").astype(str).str.strip().tolist()
    if _CHARACTERS.fullmatch("".join(text)):
        return text, np.ones(len(text), dtype=bool)
    valid = np.array([_CELL.fullmatch(cell) is not None for cell in text], dtype=bool)
    return [cell if ok else "" for cell, ok in zip(text, valid, strict=True)], valid


def _parse_cells(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(well-formed, bucket entries per cell, buckets, counts) of `buckets` cells, parsed in one pass over
    their joined text (no Python object per bucket): each cell opens with a -3 and each ":" becomes -2, so
    "183:1 4" reads as -3 183 -2 1 4."""
    text, valid = _cells_text(cells)
    numbers = np.fromstring(" ".join(f"{_CELL_START} {cell}" for cell in text).replace(":", f" {_RUN_START} "),
                            dtype=np.int64, sep=" ")
    cell_start = np.flatnonzero(numbers == _CELL_START)
    run_mark = np.flatnonzero(numbers == _RUN_START)
    cell_of = np.cumsum(numbers == _CELL_START) - 1
    # Well-formed: a non-empty cell opens with a run (-3 b -2 c), and every -2 sits between two numbers.
    neighbours = np.r_[numbers, _CELL_START, _CELL_START]
    opened = np.r_[cell_start[1:], numbers.size] - cell_start == 1
    opened |= neighbours[cell_start + 2] == _RUN_START
    broken = np.zeros(len(text), dtype=bool)
    broken[cell_of[run_mark[(neighbours[run_mark - 1] < 0) | (neighbours[run_mark + 1] < 0)]]] = True
    valid &= opened & ~broken
    if not run_mark.size:
        empty = np.empty(0, dtype=np.int64)
        return valid, np.zeros(len(text), dtype=np.int64), empty, empty
    is_count = numbers >= 0
    is_count[run_mark - 1] = False  # a run's bucket
    run_of = np.cumsum(numbers == _RUN_START) - 1
    position = np.flatnonzero(is_count)
    run = run_of[position]
    buckets = numbers[run_mark - 1][run] + (position - (run_mark[run] + 1))
    counts = numbers[position]
    keep = (counts != 0) & valid[cell_of[position]]
    per_cell = np.bincount(cell_of[position][keep], minlength=len(text)).astype(np.int64)
    return valid, per_cell, buckets[keep], counts[keep]


def blocks_from_frame(frame: pd.DataFrame) -> tuple[LatencyBlocks, np.ndarray]:
    """Columnar blocks from latency_blocks.csv's rows, and which rows they are: a row whose counts do not add
    up to its steps (a torn or hand-edited line) is dropped, as a partial last line is."""
    if frame.empty:
        return empty_blocks(), np.empty(0, dtype=np.int64)
    numeric = {column: pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
               for column in LATENCY_BLOCK_COLUMNS if column not in ("phase", "buckets")}
    well_formed, pairs, bucket, count = _parse_cells(frame["buckets"])
    offsets = np.concatenate([[0], np.cumsum(pairs)]).astype(np.int64)
    owner = np.repeat(np.arange(len(frame)), pairs)
    totals = np.bincount(owner, weights=count, minlength=len(frame))
    finite = np.all([np.isfinite(values) for values in numeric.values()], axis=0)
    valid = well_formed & finite & (pairs > 0) & (totals == np.nan_to_num(numeric["steps"], nan=-1))
    blocks = LatencyBlocks(
        measured=(frame["phase"].astype(str) == "measure").to_numpy(),
        first_step=np.nan_to_num(numeric["first_step"]).astype(np.int64),
        last_step=np.nan_to_num(numeric["last_step"]).astype(np.int64),
        steps=np.nan_to_num(numeric["steps"]).astype(np.int64),
        start_s=numeric["start_monotonic_s"], end_s=numeric["end_monotonic_s"], sum_ms=numeric["sum_ms"],
        min_ms=numeric["min_ms"], max_ms=numeric["max_ms"], offsets=offsets, bucket=bucket, count=count)
    return (blocks if valid.all() else blocks.select(valid)), np.flatnonzero(valid)


class _CompleteLines:
    """A binary file read up to its last newline (a crash's partial last line left out), for pandas."""

    def __init__(self, handle, limit: int):
        self._handle, self._left = handle, limit

    def read(self, size: int = -1) -> bytes:
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def __iter__(self):
        return iter(self.read().splitlines(keepends=True))


@contextmanager
def complete_lines(path: Path):
    """Open a CSV for chunked reading, its partial last line (a crash mid-write) left out."""
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(size - 65536, 0))
        tail = handle.read()
        handle.seek(0)
        cut = tail.rfind(b"\n")
        yield _CompleteLines(handle, size - len(tail) + cut + 1 if cut >= 0 else 0)


def _merge_factor(path: Path, first: pd.DataFrame) -> int:
    """Blocks merged per held block: the smallest power of two that keeps the file's blocks (estimated from
    its size and the first chunk's row length) within MAX_BLOCKS_HELD."""
    row_bytes = (first["buckets"].fillna("").astype(str).str.len().mean() or 0) + 80
    estimated_rows = path.stat().st_size / row_bytes
    return min(CHUNK_ROWS, 1 << max(0, math.ceil(math.log2(max(estimated_rows / MAX_BLOCKS_HELD, 1)))))


def read_latency_blocks(path: Path) -> LatencyBlocks:
    """latency_blocks.csv in chunks (a partial last line dropped), merged to at most ~MAX_BLOCKS_HELD blocks."""
    if not path.exists():
        return empty_blocks()
    parts, factor, row = [], 0, 0
    with complete_lines(path) as handle:
        try:
            reader = pd.read_csv(handle, chunksize=CHUNK_ROWS, dtype={"phase": str, "buckets": str},
                                 on_bad_lines="skip")
            for frame in reader:
                factor = factor or _merge_factor(path, frame)
                blocks, rows = blocks_from_frame(frame)
                parts.append(blocks if factor == 1 else _merge_runs(blocks, row + rows, factor))
                row += len(frame)
        except pd.errors.EmptyDataError:
            return empty_blocks()
    return concatenate_blocks(parts)


def _merge_runs(blocks: LatencyBlocks, rows: np.ndarray, factor: int) -> LatencyBlocks:
    """Merge runs of `factor` blocks (by their row in the file), never across the warm-up's end."""
    if not len(blocks):
        return blocks
    run = rows // factor
    starts = np.r_[True, (run[1:] != run[:-1]) | (blocks.measured[1:] != blocks.measured[:-1])]
    return blocks.merged(np.cumsum(starts))
