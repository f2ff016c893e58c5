"""When the child reads itself: every K steps, K chosen on a time budget from the measured step time.

A 50 ms model call is read after every step (K=1); a sub-microsecond step every few hundred or thousand
steps, so the readings cost at most READING_TIME_BUDGET of the loop. A run that is short in wall time
still gets MIN_READINGS_PER_RUN readings: its whole loop lasts milliseconds, so a few more microseconds
buy a verdict where the budget alone would leave two or three points.

Readings are also capped in wall time: each is a row of iterations.csv, and a 1% budget on a 10 us reading
is a reading per millisecond of a fast loop, 3.6 million rows an hour. A run may take READINGS_UNCAPPED
readings plus MAX_READINGS_PER_S per second of its planned length (its --duration, or its planned steps at
the measured step time), spread evenly over it: a run of up to ~5000 readings is read as before, an
8-hour one about 20 times a second, and every one keeps at least MIN_READINGS_PER_RUN.
"""

from __future__ import annotations

import math

# Share of the loop's wall time the readings may take over a long run (the issue's ~1% target).
READING_TIME_BUDGET = 0.01
# Readings wanted over the measured iterations at least: enough for a robust slope and its interval, and
# for shape checks (warm-up, releases) that bin the series into up to 100 levels.
MIN_READINGS_PER_RUN = 400
# K never exceeds this: even a nanosecond step is read once per this many steps.
MAX_STEPS_PER_READING = 100_000
# At most this many readings per second of loop over a long run: ~72,000 rows (~7 MB) an hour, far more
# than any verdict needs, and a report that reads them in seconds...
MAX_READINGS_PER_S = 20.0
# ...on top of this many for any run (the cap never binds on one that the budget reads fewer times).
READINGS_UNCAPPED = 5000
# The first readings (and warm-up) calibrate the cost; K is re-chosen at every reading from running means.
_SMOOTHING = 0.2
_COST_CREEP = 0.05


class ReadingSchedule:
    """Decides the next step to read at; told the cost of each reading and the loop's pace in between."""

    def __init__(self, planned_steps: int, fixed_every: int = 0, planned_duration_s: float | None = None):
        self.fixed_every = max(0, int(fixed_every))
        self.planned_steps = max(1, int(planned_steps))
        self.planned_duration_s = planned_duration_s if planned_duration_s and planned_duration_s > 0 else None
        self.coverage_every = max(1, self.planned_steps // MIN_READINGS_PER_RUN)
        self.every = self.fixed_every or 1
        self._reading_cost_s: float | None = None
        self._step_s: float | None = None

    @staticmethod
    def _smooth(previous: float | None, value: float) -> float:
        return value if previous is None else previous + _SMOOTHING * (value - previous)

    def next_step(self, step: int, reading_cost_s: float, loop_s_since_last: float,
                  steps_since_last: int) -> int:
        """Record what the reading at `step` cost and how long the steps since the last one took."""
        if self.fixed_every:
            return step + self.fixed_every
        # The typical cost, not the mean: the first readings (cold caches, imports) cost 10x the later ones,
        # so a lower reading is taken at once and a higher one only creeps in.
        cost_s = max(reading_cost_s, 0.0)
        if self._reading_cost_s is None or cost_s < self._reading_cost_s:
            self._reading_cost_s = cost_s
        else:
            self._reading_cost_s += _COST_CREEP * (cost_s - self._reading_cost_s)
        if steps_since_last > 0 and loop_s_since_last > 0:
            self._step_s = self._smooth(self._step_s, loop_s_since_last / steps_since_last)
        if self._step_s:
            budget_every = math.ceil(self._reading_cost_s / (READING_TIME_BUDGET * self._step_s))
            self.every = max(1, min(max(budget_every, self._capped_every(self._step_s)), self.coverage_every,
                                    MAX_STEPS_PER_READING))
        return step + self.every

    def _capped_every(self, step_s: float) -> int:
        """The fewest steps between readings the wall-time cap allows, at the measured step time."""
        planned_s = self.planned_steps * step_s
        if self.planned_duration_s is not None:
            planned_s = min(planned_s, self.planned_duration_s)
        allowed_readings = READINGS_UNCAPPED + MAX_READINGS_PER_S * planned_s
        return math.ceil(planned_s / allowed_readings / step_s)
