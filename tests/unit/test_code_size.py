"""Size limits that keep the package (and benchmarks/) readable: no module over MAX_MODULE_LINES lines, no function over
MAX_FUNCTION_LINES lines (decorators excluded, docstring included). Complexity is ruff's job (C90, max 12).

A module or function that grows past a limit is split along its seams; the allow-lists below are only for
code this rule cannot be applied to yet, each with the reason; an entry goes once its code is split.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "leakhunt"
# benchmarks/ is held to the same limits: its scripts are read, run and changed like the package.
CHECKED_ROOTS = (PACKAGE, REPO_ROOT / "benchmarks")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
# "path relative to the repository:function name" -> why it may exceed MAX_FUNCTION_LINES for now.
FUNCTION_ALLOW_LIST: dict[str, str] = {}
# "path relative to the repository" -> why it may exceed MAX_MODULE_LINES for now.
MODULE_ALLOW_LIST: dict[str, str] = {}


def _relative(path: Path, root: Path) -> str:
    """The path as the allow-lists name it: relative to the folder that holds the package."""
    return path.relative_to(root.parent).as_posix()


def long_modules(root: Path, limit: int) -> dict[str, int]:
    """{module path: line count} of every module over `limit` lines."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found[_relative(path, root)] = lines
    return found


def long_functions(root: Path, limit: int) -> dict[str, int]:
    """{"path:function": line count} of every function or method over `limit` lines (nested ones included)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found[f"{_relative(path, root)}:{node.name}"] = lines
    return found


def test_the_walkers_find_a_planted_long_module_and_function(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(5))
    (package / "big.py").write_text(f"def long_one():\n{body}\n\n\ndef short_one():\n    return 1\n")
    assert long_functions(package, 5) == {"pkg/big.py:long_one": 6}
    assert long_modules(package, 8) == {"pkg/big.py": 10}
    assert long_modules(package, 10) == {}


def test_no_module_over_the_line_limit():
    over = {path: lines for root in CHECKED_ROOTS for path, lines in long_modules(root, MAX_MODULE_LINES).items()
            if path not in MODULE_ALLOW_LIST}
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split them along their seams): {over}"


def test_no_function_over_the_line_limit():
    over = {name: lines for root in CHECKED_ROOTS for name, lines in long_functions(root, MAX_FUNCTION_LINES).items()
            if name not in FUNCTION_ALLOW_LIST}
    assert not over, f"functions over {MAX_FUNCTION_LINES} lines (split them into named steps): {over}"
