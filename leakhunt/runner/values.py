"""Parsers for option values typed by users: counts, durations, sizes. Each bad value is one clear line."""

from __future__ import annotations

import re

from leakhunt.errors import BadInputError

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 1024, "ki": 1024, "m": 1e6, "mb": 1e6,
                 "mib": 1024**2, "mi": 1024**2, "g": 1e9, "gb": 1e9, "gib": 1024**3, "gi": 1024**3,
                 "t": 1e12, "tb": 1e12, "tib": 1024**4, "ti": 1024**4}


def parse_positive_int(text: str | int, option: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise BadInputError(f"{option} must be a whole number, got '{text}'") from None
    if value <= 0:
        raise BadInputError(f"{option} must be greater than 0, got {value}")
    return value


def parse_non_negative_int(text: str | int, option: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise BadInputError(f"{option} must be a whole number, got '{text}'") from None
    if value < 0:
        raise BadInputError(f"{option} must be 0 or more, got {value}")
    return value


def parse_positive_float(text: str | float, option: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise BadInputError(f"{option} must be a number, got '{text}'") from None
    if not value > 0:
        raise BadInputError(f"{option} must be greater than 0, got {text}")
    return value


def parse_duration_s(text: str, option: str = "--duration") -> float:
    """'90', '90s', '30m', '1h30m', '250ms' -> seconds."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        seconds = float(cleaned)
    else:
        parts = _DURATION_PART.findall(cleaned)
        if not parts or "".join(n + u for n, u in parts) != cleaned:
            raise BadInputError(f"{option} must look like 90s, 30m or 1h30m, got '{text}'")
        factors = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
        seconds = sum(float(number) * factors[unit] for number, unit in parts)
    if seconds <= 0:
        raise BadInputError(f"{option} must be longer than 0, got '{text}'")
    return seconds


def parse_size_bytes(text: str, option: str) -> int:
    """'2GiB', '512M', '1.5g', '1000000' -> bytes (K/M/G are powers of 1000, KiB/MiB/GiB of 1024)."""
    match = _SIZE.match(text)
    if not match or match.group(2).lower() not in _SIZE_FACTORS:
        raise BadInputError(f"{option} must be a size like 2GiB or 512MiB, got '{text}'")
    value = int(float(match.group(1)) * _SIZE_FACTORS[match.group(2).lower()])
    if value <= 0:
        raise BadInputError(f"{option} must be larger than 0, got '{text}'")
    return value


def split_values(values: list[str] | None) -> list[str]:
    """Options may be repeated and/or comma lists: ['1,4', '8'] -> ['1', '4', '8']."""
    result: list[str] = []
    for value in values or []:
        result.extend(part.strip() for part in value.split(",") if part.strip())
    return result
