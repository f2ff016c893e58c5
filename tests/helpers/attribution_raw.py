"""Synthetic attribution.json contents with known answers: checkpoints, per-site series, witness lines, TF
evidence, as leakhunt.attribution.child_pass writes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Sequence

from leakhunt import rundir

CHECKPOINTS = 11
ITERATIONS = 100
SERVE = "/srv/app/serve.py"
TF_OPS = "/venv/lib/python3.11/site-packages/tensorflow/python/ops/array_ops.py"
TF_SESSION = "/venv/lib/python3.11/site-packages/tensorflow/python/client/session.py"


def iterations(points: int = CHECKPOINTS, total: int = ITERATIONS) -> list[int]:
    return [round(total * index / (points - 1)) for index in range(points)]


def series(shape: Callable[[int], float], points: int = CHECKPOINTS, total: int = ITERATIONS) -> list[int]:
    return [int(shape(iteration)) for iteration in iterations(points, total)]


def linear(rate: float, base: float = 1000.0) -> Callable[[int], float]:
    return lambda iteration: base + rate * iteration


def cache(total_bytes: float, fills_by: int) -> Callable[[int], float]:
    """Grows evenly until `fills_by`, then stays: a cache filling during the first tracked steps."""
    return lambda iteration: total_bytes * min(iteration, fills_by) / fills_by


def frame(function: str, file: str, line: int, user: bool = False, code: str = "") -> dict[str, Any]:
    return {"function": function, "file": file, "line": line, "user": user, "code": code}


def site(file: str, line: int, function: str, code: str, native: Sequence[int] | None = None,
         python: Sequence[int] | None = None, stack: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    kinds = {}
    if native is not None:
        kinds["native"] = list(native)
    if python is not None:
        kinds["python"] = list(python)
    return {"file": file, "line": line, "function": function, "code": code, "bytes": kinds,
            "stack": stack or [frame(function, file, line, True, code)], "traced_code": None}


def raw(sites: list[dict[str, Any]], heap_rate: float = 0.0, witness: list[dict[str, Any]] | None = None,
        tf_graph: list[dict[str, Any]] | None = None, tf_functions: list[dict[str, Any]] | None = None,
        rss_rate: float | None = None) -> dict[str, Any]:
    checkpoints = [{"iteration": iteration, "t_monotonic_s": float(iteration), "rss_bytes": int(
        500e6 + (heap_rate if rss_rate is None else rss_rate) * iteration), "heap_bytes": int(
        100e6 + heap_rate * iteration), "py_blocks": 1000, "snapshot": index}
        for index, iteration in enumerate(iterations())]
    return {"attribution_format": 1, "strategy": "s", "tracker": "memray", "tracker_note": None,
            "witness": "mallinfo2 per line", "tensorflow": bool(tf_graph or tf_functions), "warmup_steps": 20,
            "iterations_planned": ITERATIONS, "iterations": ITERATIONS,
            "stop_reason": f"ran {ITERATIONS} tracked steps",
            "checkpoints": checkpoints, "timing_s": {"build": 5.0, "warmup": 2.0, "tracked": 20.0, "read": 3.0},
            "sites": sites, "witness_lines": witness or [], "tf_graph": tf_graph or [],
            "tf_functions": tf_functions or []}


def done_status(wall_s: float = 31.0, step_ms: float = 50.0) -> dict[str, Any]:
    return {"outcome": "done", "reason": None, "wall_s": wall_s, "peak_rss_bytes": 900_000_000, "exit_code": 0,
            "plan": {"warmup_steps": 20, "iterations": ITERATIONS, "checkpoints": CHECKPOINTS, "step_ms": step_ms,
                     "budget_s": 45.0, "why": "100 tracked steps after 20 untracked warm-up steps"}}


def write_attribution(folder: Path, raw_data: dict[str, Any] | None, status: dict[str, Any] | None) -> None:
    if raw_data is not None:
        (folder / rundir.ATTRIBUTION_FILE).write_text(json.dumps(raw_data), encoding="utf-8")
    if status is not None:
        (folder / rundir.ATTRIBUTION_STATUS_FILE).write_text(json.dumps(status), encoding="utf-8")
