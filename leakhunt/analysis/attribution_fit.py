"""One attribution site's growth, judged from its live bytes at the attribution pass's checkpoints: a leak
site (still growing linearly in the pass's second half), a cache (grew, then stopped), or neither.

Pure: arrays in, a frozen fit out. The checkpoints are few (about a dozen) and each is read after a full
collection, so an ordinary least-squares slope with a Student-t interval is the right tool; a robust fit
would throw away the few points there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

MIN_POINTS = 4  # a slope and its interval need a few degrees of freedom
CONFIDENCE = 0.95
# A site's own floor: below this many bytes per iteration no site is named (allocator rounding, dict resizes).
SITE_FLOOR_BYTES_PER_ITER = 16.0
# ... and below this share of the strategy's growth (a 1 MiB/iter leak does not need its 2 KiB/iter neighbours).
SITE_FLOOR_SHARE = 0.01
# A leak site still grows in the pass's second half at this fraction of its whole-pass slope or more; a
# site that grew and then grew less than this is a cache (or a warm-up the untracked steps did not cover).
RECENT_SLOPE_SHARE = 0.3


@dataclass(frozen=True)
class SiteGrowth:
    """A site's slope over the pass, with its 95% interval, and how it grew in each half."""

    slope_bytes_per_iter: float
    ci95_bytes_per_iter: tuple[float, float]
    recent_slope_bytes_per_iter: float
    growth_bytes: float
    first_half_bytes: float
    second_half_bytes: float
    points: int

    def is_leak(self, floor_bytes_per_iter: float) -> bool:
        return (self.slope_bytes_per_iter >= floor_bytes_per_iter and self.ci95_bytes_per_iter[0] > 0
                and self.recent_slope_bytes_per_iter >= RECENT_SLOPE_SHARE * self.slope_bytes_per_iter)

    def is_cache(self, floor_bytes_per_iter: float, iterations: float) -> bool:
        """Grew by at least a floor's worth over the pass, nearly all of it in the first half."""
        return (not self.is_leak(floor_bytes_per_iter) and self.growth_bytes >= floor_bytes_per_iter * iterations
                and self.first_half_bytes > 0 and self.second_half_bytes < RECENT_SLOPE_SHARE * self.first_half_bytes)


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, half width of its 95% interval); an exact line has a zero-width interval."""
    if np.ptp(y) == 0:
        return 0.0, 0.0
    result = stats.linregress(x, y)
    quantile = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(x) - 2))
    return float(result.slope), quantile * float(result.stderr)


def fit_site(iterations: Sequence[float], live_bytes: Sequence[float | None]) -> SiteGrowth | None:
    """Fit live bytes against the tracked iteration; None with fewer than MIN_POINTS readings."""
    pairs = [(float(x), float(y)) for x, y in zip(iterations, live_bytes, strict=False) if y is not None]
    if len(pairs) < MIN_POINTS:
        return None
    x = np.array([p[0] for p in pairs])
    y = np.array([p[1] for p in pairs])
    slope, half_width = _ols(x, y)
    middle = len(x) // 2
    recent_x, recent_y = x[middle:], y[middle:]
    recent_slope = _ols(recent_x, recent_y)[0] if len(recent_x) >= 3 else slope
    return SiteGrowth(slope, (slope - half_width, slope + half_width), recent_slope, float(y[-1] - y[0]),
                      float(y[middle] - y[0]), float(y[-1] - y[middle]), len(x))


def site_floor(strategy_growth_bytes_per_iter: float | None) -> float:
    """The slope below which a site is not named, for a strategy growing this fast."""
    relative = 0.0 if not strategy_growth_bytes_per_iter else SITE_FLOOR_SHARE * abs(strategy_growth_bytes_per_iter)
    return max(SITE_FLOOR_BYTES_PER_ITER, relative)


def total_series(series: Sequence[Sequence[float | None]]) -> list[float | None]:
    """Point-wise sum of several series of one site (None where any is None)."""
    if not series:
        return []
    totals: list[float | None] = []
    for values in zip(*series, strict=False):
        read = [value for value in values if value is not None]
        totals.append(None if len(read) < len(values) else float(sum(read)))
    return totals
