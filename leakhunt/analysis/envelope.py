"""The envelope of a series of readings: each eighth of the run's low and high, and what they say.

A sawtooth whose teeth are narrower than a release level (a 640-step tooth read every ~50 steps over 20000
iterations: 13 readings a tooth, 2.5 levels a tooth) aliases into noise in the binned levels shape.py reads
releases from; its envelope stays level, whatever the tooth width. And a sawtooth that climbs shows it in its
envelope: both the highs and the lows of the second half sit above the first half's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The run is cut into this many windows (eighths); each needs this many readings.
ENVELOPE_WINDOWS = 8
ENVELOPE_MIN_READINGS_PER_WINDOW = 8
# ...each window's low and high are these quantiles of its readings (robust to a transient reading or two).
ENVELOPE_QUANTILE = 0.05


@dataclass(frozen=True)
class Envelope:
    """Each window's lowest and highest reading, and the typical rise from one reading to the next."""

    lows: tuple[float, ...]
    highs: tuple[float, ...]
    reading_rise: float
    # The fewest drops of more than half a typical window's range in any window: whole teeth per window. A window's
    # highest reading misses its teeth's true peak by less than a reading's rise, and by less the more teeth
    # it holds (their readings fall at different phases).
    teeth_per_window: int = 0
    # Sudden changes of more than half a typical window's range over the whole series: a sawtooth drops
    # suddenly and climbs gradually; scatter (noise, a cycle with the input) jumps both ways.
    big_drops: int = 0
    big_rises: int = 0


def measure_envelope(y: np.ndarray) -> Envelope | None:
    """The envelope of a series of readings in order; None with too few readings for it.

    Read from the readings themselves, not the transient-free series: a running median over three readings
    flattens teeth that span only a few readings. A window's low and high are its ENVELOPE_QUANTILE and
    1 - ENVELOPE_QUANTILE quantiles, so a transient spike or dip of a reading or two does not set them.
    """
    if len(y) < ENVELOPE_WINDOWS * ENVELOPE_MIN_READINGS_PER_WINDOW:
        return None
    windows = np.array_split(y, ENVELOPE_WINDOWS)
    lows = tuple(float(np.quantile(window, ENVELOPE_QUANTILE)) for window in windows)
    highs = tuple(float(np.quantile(window, 1 - ENVELOPE_QUANTILE)) for window in windows)
    changes = np.diff(y)
    rises = changes[changes > 0]
    big_change = 0.5 * float(np.median(np.subtract(highs, lows)))
    teeth = min(int(np.sum(np.diff(window) < -big_change)) for window in windows)
    return Envelope(lows, highs, float(np.median(rises)) if rises.size else 0.0, teeth,
                    int(np.sum(changes < -big_change)), int(np.sum(changes > big_change)))


# Bounded by its envelope: every eighth of the run swings through at least this share of what a typical eighth
# swings through (so each holds whole teeth), and the second half's highest and lowest readings stay within the
# tolerance of the first half's: the growth floor, or twice the typical rise between two readings divided by the
# whole teeth per eighth (how far a window's extreme can miss its teeth's true peak), whichever is larger.
ENVELOPE_FULL_SWING_SHARE = 0.5
ENVELOPE_READING_RISES = 2.0
# A swing is a sawtooth (memory piles up and is released) when every eighth holds a sudden drop and sudden rises
# are at most this share of the sudden drops; otherwise it is scatter (noise, or a cycle with the input: a
# persistent Session fed six images holds 161-209 MB in TF's allocator by image), which is no growth at all.
SAWTOOTH_MAX_SUDDEN_RISE_SHARE = 0.25


def _ranges(envelope: Envelope) -> np.ndarray:
    return np.array(envelope.highs) - np.array(envelope.lows)


def swings(envelope: Envelope | None, growth_floor: float) -> bool:
    """Every eighth swings through at least ENVELOPE_FULL_SWING_SHARE of what a typical eighth swings through,
    and that is above the floor: teeth (or scatter) everywhere. Against the typical eighth, not the whole run's
    range, so that a climb does not hide the teeth."""
    if envelope is None:
        return False
    ranges = _ranges(envelope)
    typical = float(np.median(ranges))
    return typical > growth_floor and not np.any(ranges < ENVELOPE_FULL_SWING_SHARE * typical)


def sawtooth_swing(envelope: Envelope | None, growth_floor: float) -> bool:
    """A swing that piles up gradually and drops suddenly in every eighth (see SAWTOOTH_MAX_SUDDEN_RISE_SHARE)."""
    return (envelope is not None and swings(envelope, growth_floor) and envelope.teeth_per_window >= 1
            and envelope.big_rises <= SAWTOOTH_MAX_SUDDEN_RISE_SHARE * envelope.big_drops)


def _rises(envelope: Envelope, growth_floor: float) -> tuple[float, float, float]:
    """(rise of the highest reading, rise of the lowest, tolerance) from the first half to the second."""
    lows, highs = np.array(envelope.lows), np.array(envelope.highs)
    half = lows.size // 2
    tolerance = max(growth_floor, ENVELOPE_READING_RISES * envelope.reading_rise / max(envelope.teeth_per_window, 1))
    return float(highs[half:].max() - highs[:half].max()), float(lows[half:].min() - lows[:half].min()), tolerance


def envelope_bounds(envelope: Envelope | None, growth_floor: float) -> tuple[float, float] | None:
    """(lowest, highest) reading when the series swings and neither its highs nor its lows climb from the first
    half of the run to the second by the tolerance (see ENVELOPE_READING_RISES); None otherwise."""
    if envelope is None or not swings(envelope, growth_floor):
        return None
    high_rise, low_rise, tolerance = _rises(envelope, growth_floor)
    if high_rise >= tolerance or low_rise >= tolerance:
        return None
    return float(min(envelope.lows)), float(max(envelope.highs))


def envelope_climbs(envelope: Envelope | None, growth_floor: float) -> bool:
    """A sawtooth in every eighth whose highs and lows both climb from the first half to the second by more than
    the tolerance: a rising sawtooth whatever its tooth width."""
    if envelope is None or not sawtooth_swing(envelope, growth_floor):
        return False
    high_rise, low_rise, tolerance = _rises(envelope, growth_floor)
    return min(high_rise, low_rise) >= tolerance
