"""The live progress bar per strategy: iteration, it/s, ETA, current RSS and growth since warm-up."""

from __future__ import annotations

import math
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from leakhunt.units import human_bytes

# What a reading not taken yet shows (as the report's tables show a missing number).
MISSING = "–"


class ProgressDisplay:
    """Wraps rich; `enabled=False` (non-TTY or --no-progress) prints one line per strategy instead."""

    # Without a terminal (CI logs, nohup) a plain status line is printed this often instead of a bar.
    PLAIN_LINE_INTERVAL_S = 30.0

    def __init__(self, enabled: bool):
        self.console = Console(stderr=True)
        self.enabled = enabled and sys.stderr.isatty()
        self.plain_lines = enabled and not self.enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._last_update_s = 0.0
        self._label = ""
        self._total_steps = 0

    def start_strategy(self, index: int, count: int, name: str, total_steps: int) -> None:
        label = f"[{index + 1}/{count}] {name}"
        self._label = label
        self._total_steps = total_steps
        self._last_update_s = time.monotonic()
        if not self.enabled:
            self.console.print(f"leakhunt: {label}: running {total_steps} steps", highlight=False, markup=False)
            return
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("RSS {task.fields[rss]}  growth {task.fields[growth]}"),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(label, total=total_steps, rate="- it/s", rss="-", growth="-")

    def update(self, steps_done: int, steps_per_s: float | None, rss_bytes: float | None,
               growth_bytes: float | None) -> None:
        now = time.monotonic()
        if self.plain_lines and now - self._last_update_s >= self.PLAIN_LINE_INTERVAL_S:
            self._last_update_s = now
            eta = "-"
            if steps_per_s and steps_done >= 0:
                eta = f"{(self._total_steps - steps_done) / steps_per_s / 60:.1f} min"
            rate = "-" if steps_per_s is None else f"{steps_per_s:.2f} it/s"
            self.console.print(f"    {self._label}: {max(steps_done, 0)}/{self._total_steps} steps, {rate}, "
                               f"ETA {eta}, RSS {_bytes_text(rss_bytes)} "
                               f"(growth {_bytes_text(growth_bytes, signed=True)})",
                               highlight=False, markup=False, soft_wrap=True)
            return
        if self._progress is None or self._task is None:
            return
        if now - self._last_update_s < 0.25:  # the bar need not redraw at the sampling rate
            return
        self._last_update_s = now
        self._progress.update(
            self._task,
            completed=max(steps_done, 0),
            rate="-" if steps_per_s is None else f"{steps_per_s:.1f} it/s",
            rss=_bytes_text(rss_bytes),
            growth=_bytes_text(growth_bytes, signed=True),
        )

    def finish_strategy(self, steps_done: int, outcome_line: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=max(steps_done, 0))
            self._progress.stop()
        self._progress = None
        self._task = None
        self.console.print(f"    {outcome_line}", highlight=False, markup=False, soft_wrap=True)

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False, markup=False, soft_wrap=True)


def _bytes_text(value: float | None, signed: bool = False) -> str:
    return MISSING if value is None or not math.isfinite(value) else human_bytes(float(value), signed)
