"""Loading a run folder's results: the summary, one strategy's folder, its measured steps."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def read_summary(run_dir: Path) -> dict[str, Any]:
    """summary.json of a finished run folder."""
    return read_json(run_dir / "summary.json")


def entries_by_name(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The summary's strategy entries by strategy name, in the run's order (as plain dicts: JSON records)."""
    return {entry["name"]: dict(entry) for entry in summary.get("strategies", [])}


def strategy_folder(run_dir: Path, entry: dict[str, Any]) -> Path:
    """The folder of a summary entry's strategy (strategies/NN-name)."""
    return run_dir / "strategies" / str(entry.get("folder", ""))


def strategy_folder_named(run_dir: Path, name: str) -> Path | None:
    """The folder of the strategy called `name` (from its strategy.json), or None."""
    for path in sorted((run_dir / "strategies").glob("*/strategy.json")):
        if read_json(path).get("name") == name:
            return path.parent
    return None


def measured_steps(strategy_dir: Path, columns: Sequence[str] = ("phase", "start_monotonic_s", "latency_ms")) -> Any:
    """The measured (not warm-up) rows of a strategy's iterations.csv, as a pandas DataFrame of `columns`."""
    import pandas as pd

    frame = pd.read_csv(strategy_dir / "iterations.csv", usecols=list(dict.fromkeys(["phase", *columns])))
    return frame[frame["phase"] == "measure"]


def measured_loop(strategy_dir: Path | None) -> tuple[float | None, int, float | None]:
    """Seconds from the first measured step's start to the last one's end, the measured steps, and the
    latency change from their first to their last fifth (medians; None under 10 steps)."""
    if strategy_dir is None or not (strategy_dir / "iterations.csv").is_file():
        return None, 0, None
    measured = measured_steps(strategy_dir).sort_values("start_monotonic_s")
    if measured.empty:
        return None, 0, None
    first = float(measured["start_monotonic_s"].iloc[0])
    last = measured.iloc[-1]
    loop_s = float(last["start_monotonic_s"]) + float(last["latency_ms"]) / 1e3 - first
    change = None
    fifth = len(measured) // 5
    if fifth >= 2:
        # The summary's own figure needs 50 iterations; a short run still shows a rising latency.
        latency = measured["latency_ms"]
        change = float(latency.iloc[-fifth:].median() / latency.iloc[:fifth].median() - 1)
    return loop_s, int(len(measured)), change
