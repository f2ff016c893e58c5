"""Append-only CSV files a crash cannot corrupt beyond their last line: the child's and the parent's streaming
writer (CsvAppender) and the tolerant reader every run-folder file goes through (read_csv_tolerant)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pandas as pd

FLUSH_INTERVAL_S = 1.0  # crash-safety promise: data reaches the OS at least once a second
# Under --until-decided the parent's looks read iterations.csv while the child runs: a look must judge the
# freshest readings, so the child flushes ten times as often (ten write calls a second cost nothing).
LIVE_FLUSH_INTERVAL_S = 0.1


class CsvAppender:
    """Append-only CSV writer that flushes at most once per FLUSH_INTERVAL_S (and on close).

    Built for the child's hot loop: one string format and one buffered write per row; the flush check
    reuses the caller's clock reading instead of asking for a new one.
    """

    def __init__(self, path: Path, columns: tuple[str, ...], flush_interval_s: float = FLUSH_INTERVAL_S):
        self.path = path
        self._flush_interval_s = flush_interval_s
        new_file = not path.exists() or path.stat().st_size == 0
        self._handle = open(path, "a", encoding="utf-8", buffering=1 << 16)
        if new_file:
            self._handle.write(",".join(columns) + "\n")
            self._handle.flush()
        self._next_flush_s = time.monotonic() + flush_interval_s

    def write_line(self, line: str, now_monotonic_s: float) -> None:
        self._handle.write(line)
        if now_monotonic_s >= self._next_flush_s:
            self._handle.flush()
            self._next_flush_s = now_monotonic_s + self._flush_interval_s

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            self._handle.close()


def format_optional(value: float | int | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def read_csv_tolerant(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV written by CsvAppender; a partial last line (crash mid-write) is dropped."""
    if not path.exists():
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    # Bytes, not text: pandas parses them directly (a str and its StringIO copy cost several times the file).
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
    if not data.strip():
        return pd.DataFrame({column: pd.Series(dtype="float64") for column in columns})
    # `phase` has two values: a category, not a string object per row (a long run has ~600k rows).
    dtype = {"phase": "category"} if "phase" in columns else None
    frame = pd.read_csv(io.BytesIO(data), on_bad_lines="skip", encoding="utf-8", encoding_errors="replace",
                        dtype=dtype)
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="float64")
    return frame
