"""The package's import graph has no cycles: every module under leakhunt/ is ast-parsed, imports inside functions
included (a deferred import still ties two modules together), and a cycle fails with its path.

Two levels are checked: modules, and subpackages (leakhunt.analysis, leakhunt.strategies, ...; a top-level module
is a unit of its own). Two subpackages that import each other through different modules have no module cycle,
yet neither can be understood, tested or moved without the other (strategies <-> workloads through ResizeSpec
was one)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from helpers import REPO_ROOT

PACKAGE = REPO_ROOT / "leakhunt"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def parsed(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once per session: several tests walk the whole package (read-only)."""
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


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
    for node in ast.walk(parsed(path)):
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


@functools.cache
def _package_import_graph() -> dict[str, frozenset[str]]:
    modules = all_modules()
    return {name: frozenset(imports_of(name, path, modules)) for name, path in modules.items()}


def import_graph() -> dict[str, set[str]]:
    """The package's module graph, walked once per session (a fresh copy for each caller)."""
    return {name: set(imported) for name, imported in _package_import_graph().items()}


def test_the_walker_sees_imports_inside_functions_and_relative_imports():
    graph = import_graph()
    assert "leakhunt.errors" in graph["leakhunt.cli.app"]
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
    tree = parsed(path)
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


# The design's boundaries (docs/DESIGN.md): the child is the only TensorFlow process and knows the parent only
# through the run folder; analysis and the harness never depend on how results are rendered.
FORBIDDEN_PACKAGE_IMPORTS = {
    "leakhunt.child": {"leakhunt.runner", "leakhunt.harness", "leakhunt.analysis", "leakhunt.report"},
    "leakhunt.harness": {"leakhunt.report", "leakhunt.child"},
    "leakhunt.analysis": {"leakhunt.report"},
    "leakhunt.runner": {"leakhunt.child"},
    "leakhunt.backends": {"leakhunt.child"},
    "leakhunt.rundir": {"leakhunt.child", "leakhunt.runner", "leakhunt.harness", "leakhunt.analysis",
                        "leakhunt.report"},
}
# A handful of public entry modules at the top of leakhunt/; everything else lives in a package with a job.
MAX_TOP_LEVEL_MODULES = 8


def forbidden_edges(graph: dict[str, set[str]], rules: dict[str, set[str]]) -> list[str]:
    """Every `module -> imported module` that crosses a forbidden package boundary."""
    return [f"{module} -> {target}" for module in sorted(graph) for target in sorted(graph[module])
            if package_of(target) in rules.get(package_of(module), set())]


def test_forbidden_edges_finds_a_planted_child_to_report_import():
    graph = {"leakhunt.child.loop": {"leakhunt.report.html", "leakhunt.rundir"}, "leakhunt.report.html": set()}
    planted = forbidden_edges(graph, {"leakhunt.child": {"leakhunt.report"}})
    assert planted == ["leakhunt.child.loop -> leakhunt.report.html"]
    assert forbidden_edges(graph, {"leakhunt.report": {"leakhunt.child"}}) == []


def test_no_package_imports_across_a_forbidden_boundary():
    crossings = forbidden_edges(import_graph(), FORBIDDEN_PACKAGE_IMPORTS)
    assert not crossings, "imports across the design's boundaries:\n" + "\n".join(crossings)


def declared_imports(package_init: Path) -> set[str] | None:
    """The packages a package's docstring says it may import ("May import: a, b (why), c."), or None."""
    docstring = ast.get_docstring(ast.parse(package_init.read_text(encoding="utf-8"))) or ""
    start = docstring.find("May import:")
    if start < 0:
        return None
    listed = " ".join(docstring[start + len("May import:"):].split())
    listed = re.sub(r"\([^)]*\)", "", listed.split(".")[0])
    names = {item.split()[0] for item in listed.split(",") if item.strip()}
    return set() if names == {"nothing"} else {f"leakhunt.{name}" for name in names}


def test_declared_imports_reads_a_docstring_list(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text('"""Job.\n\nMay import: rundir (the records,\nas data), units, errors. Never report."""')
    assert declared_imports(init) == {"leakhunt.rundir", "leakhunt.units", "leakhunt.errors"}
    init.write_text('"""Job.\n\nMay import: nothing else in leakhunt (both sides use it)."""')
    assert declared_imports(init) == set()
    init.write_text('"""Job."""')
    assert declared_imports(init) is None


def test_every_package_says_its_job_and_imports_only_what_its_docstring_allows():
    collapsed = package_graph(import_graph())
    packages = sorted(path.parent for path in PACKAGE.glob("*/__init__.py"))
    undeclared, beyond = [], []
    for folder in packages:
        name = f"leakhunt.{folder.name}"
        allowed = declared_imports(folder / "__init__.py")
        if allowed is None:
            undeclared.append(name)
            continue
        beyond += [f"{name} -> {target}" for target in sorted(collapsed.get(name, set()) - allowed)]
    assert not undeclared, f"package docstrings without a 'May import:' line: {undeclared}"
    assert not beyond, "imports a package's docstring does not allow:\n" + "\n".join(beyond)


def test_the_top_level_holds_only_a_handful_of_entry_modules():
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_TOP_LEVEL_MODULES, loose
