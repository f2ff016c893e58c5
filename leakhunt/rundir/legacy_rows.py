"""Run folders of format 1 (a row of iterations.csv per step) too large to hold in memory: read in chunks, the
first steps and the reading rows kept, every other step summarised into latency blocks of ~BLOCK_S of wall
time as a format-2 child would have written them. A 10-second soak of a no-op step wrote 432 MB of rows;
read whole, its report needed 4.4 GB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from leakhunt.rundir.latency_blocks import LatencyBlocks, complete_lines, concatenate_blocks, empty_blocks
from leakhunt.rundir.latency_histogram import bucket_index

# Larger iterations.csv files of format 1 are read this way (smaller ones are read whole, exactly as before).
LARGE_ROWS_BYTES = 64 * 2**20
CHUNK_ROWS = 500_000
EXACT_STEPS = 10_000  # as the format-2 child keeps (child/latency.py, EXACT_STEPS)
BLOCK_S = 1.0
# A row carrying any of these is a reading row: it is kept whole.
READING_COLUMNS = ("tf_current_bytes", "graph_ops", "tracing_count", "gc_objects", "rss_bytes", "heap_bytes",
                   "py_blocks", "reference_ms", "process_cpu_s")


def _chunk_blocks(rows: pd.DataFrame) -> LatencyBlocks:
    """Blocks of one chunk's summarised rows: grouped by phase and BLOCK_S window of their start time."""
    if rows.empty:
        return empty_blocks()
    step = rows["step"].to_numpy(dtype=np.int64)
    start_s = rows["start_monotonic_s"].to_numpy(dtype=float)
    latency_ms = rows["latency_ms"].to_numpy(dtype=float)
    measured = (rows["phase"].astype(str) == "measure").to_numpy()
    window = np.floor(start_s / BLOCK_S).astype(np.int64) * 2 + measured
    groups, group = np.unique(window, return_inverse=True)
    buckets = bucket_index(latency_ms * 1e6)
    width = int(buckets.max()) + 1
    keys, counts = np.unique(group.astype(np.int64) * width + buckets, return_counts=True)
    owner = keys // width

    first, last = np.full(groups.size, np.iinfo(np.int64).max), np.full(groups.size, -1)
    np.minimum.at(first, group, step)
    np.maximum.at(last, group, step)
    lows, highs = np.full(groups.size, np.inf), np.full(groups.size, -np.inf)
    np.minimum.at(lows, group, latency_ms)
    np.maximum.at(highs, group, latency_ms)
    starts, ends = np.full(groups.size, np.inf), np.full(groups.size, -np.inf)
    np.minimum.at(starts, group, start_s)
    np.maximum.at(ends, group, start_s + latency_ms / 1e3)
    return LatencyBlocks(
        measured=(groups % 2).astype(bool), first_step=first, last_step=last,
        steps=np.bincount(group, minlength=groups.size).astype(np.int64), start_s=starts, end_s=ends,
        sum_ms=np.bincount(group, weights=latency_ms, minlength=groups.size), min_ms=lows, max_ms=highs,
        offsets=np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=groups.size))]).astype(np.int64),
        bucket=keys % width, count=counts.astype(np.int64))


def read_large_rows(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame, LatencyBlocks]:
    """(kept rows, blocks) of a format-1 iterations.csv; a partial last line is dropped."""
    kept, blocks = [], []
    with complete_lines(path) as handle:
        for chunk in pd.read_csv(handle, chunksize=CHUNK_ROWS, on_bad_lines="skip"):
            for column in ("step", "start_monotonic_s", "latency_ms"):
                chunk[column] = pd.to_numeric(chunk[column], errors="coerce")
            chunk = chunk.dropna(subset=["step", "latency_ms"])
            present = [column for column in READING_COLUMNS if column in chunk.columns]
            keep = (chunk["step"] < EXACT_STEPS).to_numpy() | chunk[present].notna().any(axis=1).to_numpy()
            kept.append(chunk[keep])
            blocks.append(_chunk_blocks(chunk[~keep].dropna(subset=["start_monotonic_s"])))
    frame = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="float64")
    return frame, concatenate_blocks(blocks)
