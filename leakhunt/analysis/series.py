"""(measured iteration, value) series from the run folder's step-indexed tables (samples.csv, iterations.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leakhunt.analysis.robust import clean_xy


def _measured_series(frame: pd.DataFrame, step_column: str, column: str,
                     warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, value) from a step-indexed table; warm-up, build and empty cells dropped."""
    if column not in frame.columns or step_column not in frame.columns or frame.empty:
        return np.empty(0), np.empty(0)
    steps = pd.to_numeric(frame[step_column], errors="coerce").to_numpy(dtype=float)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    iteration = steps - warmup_steps
    keep = np.isfinite(iteration) & (iteration >= 0) & np.isfinite(values)
    return clean_xy(iteration[keep], values[keep])


def memory_series(samples: pd.DataFrame, column: str, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, bytes) for parent samples taken after the warm-up; build/warm-up dropped."""
    return _measured_series(samples, "steps_done", column, warmup_steps)


def iteration_series(iterations: pd.DataFrame, column: str, warmup_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured iteration, value) for a per-step signal column of iterations.csv; empty cells dropped."""
    return _measured_series(iterations, "step", column, warmup_steps)
