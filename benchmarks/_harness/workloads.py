"""Where the benchmarks' workloads live, and reading them from the parent without importing TensorFlow."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Callable

BENCHMARKS = Path(__file__).resolve().parent.parent
REPO = BENCHMARKS.parent
WORKLOADS = BENCHMARKS / "workloads"
PATTERNS = REPO / "examples" / "tf_patterns"


def module_constants(path: Path) -> dict[str, Any]:
    """Top-level literal assignments of a module, read without importing it (patterns import TensorFlow); the
    names of its top-level functions under "__functions__"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    constants[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError):
                    pass  # computed at import time: not a constant we can use
    constants["__functions__"] = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return constants


def workload_function(path: Path, name: str) -> Callable[..., Any]:
    """A function of a workload file (a calibration the parent runs once so every child does the same work),
    imported the way the soak's child imports the file: by path, its folder first on sys.path, so the
    workloads' imports of their siblings (drift_steps -> bench_steps) work in both."""
    from leakhunt.workloads.custom import load_factory

    return load_factory(f"{path}:{name}")


def builtin_target(strategy: str, preset: str) -> tuple[str, dict[str, Any]]:
    """(factory, keyword arguments) of a built-in strategy on a preset, for a benchmark that wraps it in a
    workload of its own (compare_noise's planted changes, overhead's bare loop). leakhunt has no public call
    for it; the soak setup's own is the one place that knows."""
    from leakhunt.runner.soak_setup import builtin_specs

    (spec,) = builtin_specs([strategy], preset, None, [], [], [], None, None, 0, use_default_set=False)
    return spec.factory, dict(spec.factory_kwargs)
