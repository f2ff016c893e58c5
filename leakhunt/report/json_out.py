"""summary.json: the machine-readable summary, deterministic to the byte for the same run folder."""

from __future__ import annotations

import json
import math
from typing import Any

# Six significant digits keep every judgement readable and make the bytes independent of float noise
# (summation order, platform libm) beyond what any reader cares about.
SIGNIFICANT_DIGITS = 6


def round_float(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    if value == 0:
        return 0.0
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def to_jsonable(obj: Any) -> Any:
    """Plain JSON types only: floats rounded, NaN/inf -> None, tuples -> lists, numpy scalars unwrapped."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return round_float(obj)
    if isinstance(obj, dict):
        return {str(key): to_jsonable(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(value) for value in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        return to_jsonable(obj.item())
    return str(obj)


def render_json(document: object) -> str:
    """A JSON document (summary.json, compare.json) as its file's text."""
    return json.dumps(to_jsonable(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
