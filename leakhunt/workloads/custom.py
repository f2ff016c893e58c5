"""Resolve a `FILE.py:FUNC` or `package.module:FUNC` factory, statically in the parent and for real in the child.

The parent never imports the user's file (it may import TensorFlow and would pollute nothing but cost
seconds and ~550 MB); it checks the file exists and that FUNC is defined at top level by parsing it.
The child imports it and calls FUNC() once.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from leakhunt.errors import WorkloadError


def split_target(target: str) -> tuple[str, str]:
    source, sep, func = target.rpartition(":")
    if not sep or not source or not func:
        raise WorkloadError(
            f"workload '{target}' must look like FILE.py:FUNC or package.module:FUNC"
        )
    if not func.isidentifier():
        raise WorkloadError(f"workload '{target}': '{func}' is not a Python function name")
    return source, func


def default_label(target: str) -> str:
    source, func = split_target(target)
    stem = Path(source).stem if source.endswith(".py") else source.rsplit(".", 1)[-1]
    return f"{stem}:{func}"


def _source_file(source: str, target: str) -> Path:
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise WorkloadError(f"workload file not found: {source} (from '{target}')")
        return path
    try:
        spec = importlib.util.find_spec(source)
    except (ImportError, ValueError) as error:
        raise WorkloadError(f"workload module '{source}' cannot be found: {error}") from None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise WorkloadError(f"workload module '{source}' cannot be found on the Python path")
    return Path(spec.origin)


def _defines_top_level(tree: ast.Module, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
        if isinstance(node, (ast.ImportFrom, ast.Import)):
            if any((alias.asname or alias.name.split(".")[0]) == name for alias in node.names):
                return True
    return False


def check_target_statically(target: str) -> None:
    """Raise WorkloadError if the file/module is missing, does not parse, or defines no FUNC."""
    source, func = split_target(target)
    path = _source_file(source, target)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError) as error:
        raise WorkloadError(f"workload file {path} cannot be parsed: {error}") from None
    if not _defines_top_level(tree, func):
        raise WorkloadError(f"workload {path} has no top-level function '{func}'")


def load_factory(target: str) -> Callable[..., Any]:
    """Import the factory for real (child side)."""
    source, func = split_target(target)
    if source.endswith(".py"):
        path = Path(source).resolve()
        module_name = f"leakhunt_workload_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise WorkloadError(f"workload file {path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        sys.path.insert(0, str(path.parent))
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(source)
    factory = getattr(module, func, None)
    if factory is None:
        raise WorkloadError(f"workload {source} has no attribute '{func}'")
    if not callable(factory):
        raise WorkloadError(f"workload {source}:{func} is not callable")
    return factory


class Workload:
    """Uniform view of what a factory returned: step(), close(), evidence(), images_per_step, notes."""

    def __init__(self, built: Any, target: str):
        if callable(built) and not hasattr(built, "step"):
            self.step = built
            self._close = None
            self._evidence = None
            source_object = None
        elif hasattr(built, "step") and callable(built.step):
            self.step = built.step
            self._close = getattr(built, "close", None)
            self._evidence = getattr(built, "evidence", None)
            source_object = built
        else:
            raise WorkloadError(
                f"workload {target} returned {type(built).__name__}, not a callable step() "
                "or an object with step() and close()"
            )
        self.images_per_step = int(getattr(source_object, "images_per_step", 1) or 1)
        self.notes = list(getattr(source_object, "notes", []) or [])

    def evidence(self) -> dict[str, Any]:
        return dict(self._evidence()) if self._evidence is not None else {}

    def close(self) -> None:
        if self._close is not None:
            self._close()
