"""latency_blocks.csv: the latency of the steps that have no row of their own in iterations.csv, one row per
block of steps (about a second of the loop), as a mergeable summary: count, sum, min, max and the log-linear
bucket counts of leakhunt/latency_histogram.py. The file's layout and its columnar reader (docs/run-folder.md).

A block's steps are those between its first and last step that are not rows of iterations.csv (the reading
steps in between are rows there), so iterations.csv and this file never count a step twice, and both
together count every step the child finished up to the last flush.
"""

from __future__ import annotations

import re
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


def empty_blocks() -> LatencyBlocks:
    integers, floats = np.empty(0, dtype=np.int64), np.empty(0)
    return LatencyBlocks(np.empty(0, dtype=bool), integers, integers, integers, floats, floats, floats, floats,
                         floats, np.zeros(1, dtype=np.int64), integers, integers)


_CELL = r"\d+:\d+( \d+(:\d+)?)*"  # a run's start first, then counts and further runs
_RUN_START = re.compile(r"(\d+):")


def _parse_cells(cells: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(well-formed, bucket entries per cell, buckets, counts) of `buckets` cells, parsed in one pass over
    their joined text (no Python object per bucket): each "b:c" becomes "-1 b c", a -1 marking a run."""
    text = cells.fillna("").astype(str).str.strip()
    valid = text.str.fullmatch(_CELL).fillna(False).to_numpy(dtype=bool)
    text = text.where(valid, "")
    tokens_per_cell = np.where(valid, text.str.count(" ") + 1, 0).astype(np.int64)
    numbers = np.fromstring(_RUN_START.sub(r"-1 \1 ", " ".join(t for t in text.tolist() if t)),
                            dtype=np.int64, sep=" ")
    marker = np.flatnonzero(numbers == -1)  # counts and buckets are digits: only a marker is -1
    is_count = np.ones(numbers.size, dtype=bool)
    is_count[marker] = False
    is_count[marker + 1] = False
    run_of = np.cumsum(numbers == -1) - 1
    position = np.flatnonzero(is_count)
    run = run_of[position]
    buckets = numbers[marker + 1][run] + (position - (marker[run] + 2))
    counts = numbers[position]
    owner = np.repeat(np.arange(len(text)), tokens_per_cell)
    keep = counts != 0
    return valid, np.bincount(owner[keep], minlength=len(text)).astype(np.int64), buckets[keep], counts[keep]


def blocks_from_frame(frame: pd.DataFrame) -> LatencyBlocks:
    """Columnar blocks from latency_blocks.csv's rows; a row whose counts do not add up to its steps (a torn
    or hand-edited line) is dropped, as a partial last line is."""
    if frame.empty:
        return empty_blocks()
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
    return blocks if valid.all() else blocks.select(valid)


def read_latency_blocks(path: Path, read_csv) -> LatencyBlocks:
    """latency_blocks.csv through the run folder's tolerant CSV reader (a partial last line is dropped)."""
    if not path.exists():
        return empty_blocks()
    return blocks_from_frame(read_csv(path, LATENCY_BLOCK_COLUMNS))
