"""Human units for quantities a person reads (verdict reasons, terminal lines): 3 significant digits,
binary prefixes, never scientific notation. summary.json keeps raw bytes; only words use these."""

from __future__ import annotations

import math

_BINARY_PREFIXES = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def _three_digits(value: float) -> str:
    """3 significant digits without scientific notation (1.23, 12.3, 123, 1234)."""
    magnitude = abs(value)
    if magnitude == 0 or not math.isfinite(magnitude):
        return "0"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def human_bytes(value: float, signed: bool = False) -> str:
    """1536 -> '1.50 KiB'; 4.2e8 -> '401 MiB'."""
    if value is None or not math.isfinite(value):
        return "-"
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    size = abs(float(value))
    for unit, scale in _BINARY_PREFIXES:
        if size >= scale:
            return f"{sign}{_three_digits(size / scale)} {unit}"
    return f"{sign}{_three_digits(size)} B"


def human_amount(value: float, unit: str, signed: bool = False) -> str:
    """Bytes in binary prefixes; other units (Python blocks) as a plain 3-digit number with the unit."""
    if unit == "bytes":
        return human_bytes(value, signed)
    if value is None or not math.isfinite(value):
        return "-"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{_three_digits(value)} {unit}"


def human_rate(value: float, unit: str = "bytes", signed: bool = True) -> str:
    """A per-iteration rate: '+4.10 KiB/iter', '+1.00 blocks/iter'."""
    return f"{human_amount(value, unit, signed)}/iter"


def human_interval(low: float, high: float, unit: str = "bytes") -> str:
    """'[+4.00, +4.20 KiB]': both ends in the unit the larger end needs."""
    if unit != "bytes":
        return f"[{_signed_plain(low)}, {_signed_plain(high)}]"
    largest = max(abs(low), abs(high))
    name, scale = next(((name, scale) for name, scale in _BINARY_PREFIXES if largest >= scale), ("B", 1))
    return f"[{_signed_plain(low / scale)}, {_signed_plain(high / scale)} {name}]"


def _signed_plain(value: float) -> str:
    text = _three_digits(value)
    return text if text.startswith("-") or text == "0" else f"+{text}"


def human_ms(value: float) -> str:
    """A duration given in milliseconds, in the unit its size needs: '213 ns', '42.0 us', '1.55 ms', '669 ms',
    '1,281 ms' (a sub-microsecond step never reads '0 ms')."""
    if value is None or not math.isfinite(value):
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f} ms"
    # The switch points sit where 3 significant digits round up to 1000 of the smaller unit.
    unit, scale = ("ms", 1.0) if magnitude >= 0.9995 or magnitude == 0 else (
        ("us", 1e3) if magnitude >= 0.9995e-3 else ("ns", 1e6))
    return f"{_three_digits(float(f'{value * scale:.3g}'))} {unit}"


def human_number(value: float) -> str:
    """A plain count or rate for a person: 3 significant digits, thousands separated ('0.934', '14.7',
    '1,234', '56,789'), never scientific notation."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return _three_digits(value)


def human_count(value: float) -> str:
    """A whole number with thousands separated: 5000 -> '5,000'."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{int(round(value)):,}"


def human_factor(value: float) -> str:
    """A ratio: '14.7x', '1.06x', '1,234x'."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{human_number(value)}x"


def human_duration(seconds: float) -> str:
    """'45 s', '3.5 min', '14.4 h', '2.1 days'."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("days", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds:.0f} s"


def three_digits(value: float) -> str:
    """A bare number with 3 significant digits (no unit, no sign added): 0.879, 12.3, 123, 1234."""
    return _three_digits(value)
