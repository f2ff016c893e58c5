"""The package's import graph has no cycles: every module under leakhunt/ is ast-parsed, imports inside functions
included (a deferred import still ties two modules together), and a cycle fails with its path.

Two levels are checked: modules, and subpackages (leakhunt.analysis, leakhunt.strategies, ...; a top-level module
is a unit of its own). Two subpackages that import each other through different modules have no module cycle,
yet neither can be understood, tested or moved without the other (strategies <-> workloads through ResizeSpec
was one)."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "leakhunt"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The leakhunt modules `name` imports anywhere in its body (a `from pkg import sub` names the submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, name, path.name == "__init__.py")
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif target in modules:
                    found.add(target)
    found.discard(name)
    return found


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_walker_sees_imports_inside_functions_and_relative_imports():
    graph = import_graph()
    assert "leakhunt.errors" in graph["leakhunt.cli"]
    assert len(graph) > 50


def test_find_cycles_reports_a_planted_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def package_of(module: str) -> str:
    """The unit a module belongs to at the package level: leakhunt.analysis.leak -> leakhunt.analysis."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to subpackages (edges inside one subpackage dropped)."""
    collapsed: dict[str, set[str]] = {}
    for module, imported in graph.items():
        unit = package_of(module)
        collapsed.setdefault(unit, set()).update(package_of(target) for target in imported
                                                 if package_of(target) != unit)
    return collapsed


def test_package_graph_sees_a_cycle_between_subpackages_that_no_module_cycle_shows():
    graph = {"leakhunt.a.one": {"leakhunt.b.two"}, "leakhunt.b.two": set(),
             "leakhunt.b.three": {"leakhunt.a.four"}, "leakhunt.a.four": set(), "leakhunt.cli": {"leakhunt.a.one"}}
    assert find_cycles(graph) == []
    assert find_cycles(package_graph(graph)) == [["leakhunt.a", "leakhunt.b"]]


def test_no_two_subpackages_import_each_other():
    graph = import_graph()
    cycles = find_cycles(package_graph(graph))
    described = ["; ".join(f"{module} -> {target}" for module in sorted(graph) for target in sorted(graph[module])
                           if package_of(module) in cycle and package_of(target) in cycle
                           and package_of(target) != package_of(module)) for cycle in cycles]
    assert not cycles, "subpackage cycles:\n" + "\n".join(described)


def test_the_package_has_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    described = ["; ".join(f"{module} -> {sorted(graph[module] & set(cycle))}" for module in cycle) for cycle in cycles]
    assert not cycles, "import cycles:\n" + "\n".join(described)


RAY_MODULES = {"leakhunt.backends.ray_backend", "leakhunt.backends.ray_task"}


def ray_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, at module level) of every `import ray...` / `from ray... import` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
        if any(name == "ray" or name.startswith("ray.") for name in names):
            found.append((node.lineno, id(node) in top_level))
    return found


def test_ray_is_imported_only_by_the_ray_backend_and_only_inside_functions():
    importers = {name: ray_imports(path) for name, path in all_modules().items()}
    importers = {name: found for name, found in importers.items() if found}
    assert set(importers) <= RAY_MODULES, sorted(importers)
    assert "leakhunt.backends.ray_backend" in importers  # the walker does see a deferred import
    assert not [(name, line) for name, found in importers.items() for line, top in found if top]


def test_the_ray_backend_has_one_door_that_only_backend_ray_opens():
    graph = import_graph()
    doors = sorted(name for name, imported in graph.items() if RAY_MODULES & imported and name not in RAY_MODULES
                   and not name.startswith("leakhunt.backends.ray_"))
    assert doors == ["leakhunt.backends"]  # make_backend(), behind `config.backend == "ray"`
