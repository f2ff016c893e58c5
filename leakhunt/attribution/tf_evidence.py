"""TensorFlow's own evidence in the attribution pass: the graph ops added during the pass (grouped by the line
that created them and by type: every op carries its creation stack) and the tf.functions that retrace
(how often, how many concrete functions, which argument differs between their signatures).

Only when the workload itself imported TensorFlow; graphs and functions are found once with the garbage
collector's object list (at the start and the end), the per-checkpoint counts are O(1) reads.
"""

from __future__ import annotations

import gc
import inspect
import sys
from typing import TYPE_CHECKING, Any

from leakhunt.attribution.frames import CodeScope, Frame, site_index
from leakhunt.attribution.site_series import code_line

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import GraphSiteRecord, TfFunctionRecord, VaryingArgument

MAX_SIGNATURES_COMPARED = 20  # the newest concrete functions tell which argument varies


def _op_stack(op: Any) -> list[Frame]:
    """An op's creation stack, innermost first."""
    return [(frame.name, frame.filename, frame.lineno) for frame in reversed(list(op.traceback))]


def _site_key(stack: list[Frame], scope: CodeScope) -> tuple[str, int, str | None]:
    position = site_index(stack, scope)
    if position is None:
        return ("<no frame in your code>", 0, None)
    function, filename, line = stack[position]
    return (filename, line, function)


class GraphWatch:
    """TF1 graphs alive at the start of the pass: op counts per checkpoint, then the new ops by site."""

    def __init__(self, tf: Any, scope: CodeScope):
        self.scope = scope
        func_graph = getattr(getattr(tf, "__internal__", None), "FuncGraph", None)
        self.graphs = [obj for obj in gc.get_objects() if isinstance(obj, tf.Graph)
                       and not (func_graph is not None and isinstance(obj, func_graph))]
        self.counts: list[list[int]] = []  # per checkpoint, per graph

    def checkpoint(self) -> None:
        self.counts.append([len(graph.get_operations()) for graph in self.graphs])

    def sites(self) -> list[GraphSiteRecord]:
        by_site: dict[tuple[str, int, str | None], GraphSiteRecord] = {}
        checkpoints = len(self.counts)
        for position, graph in enumerate(self.graphs):
            first = self.counts[0][position]
            operations = graph.get_operations()[first:self.counts[-1][position]]
            bounds = [row[position] - first for row in self.counts]
            for offset, op in enumerate(operations):
                key = _site_key(_op_stack(op), self.scope)
                site = by_site.setdefault(key, {"file": key[0], "line": key[1], "function": key[2],
                                                "code": code_line(key[0], key[1]), "ops": [0] * checkpoints,
                                                "op_types": {}})
                created_by = next(index for index, bound in enumerate(bounds) if offset < bound)
                for index in range(created_by, checkpoints):
                    site["ops"][index] += 1
                site["op_types"][op.type] = site["op_types"].get(op.type, 0) + 1
        return [site for site in by_site.values() if site["ops"][-1] > 0]


def _functions(tf: Any) -> list[Any]:
    kind = tf.types.experimental.PolymorphicFunction
    return [obj for obj in gc.get_objects() if isinstance(obj, kind)]


def _tracing_count(function: Any) -> int:
    try:
        return int(function.experimental_get_tracing_count())
    except Exception:  # noqa: BLE001 - a function TF cannot count is left out, not a failed pass
        return 0


class FunctionWatch:
    """tf.functions: tracing counts per checkpoint; the ones that traced during the pass, described."""

    def __init__(self, tf: Any, scope: CodeScope):
        self.tf = tf
        self.scope = scope
        self.functions = _functions(tf)
        self.counts: list[list[int]] = []

    def checkpoint(self) -> None:
        self.counts.append([_tracing_count(function) for function in self.functions])

    def retracing(self) -> list[TfFunctionRecord]:
        known = {id(function) for function in self.functions}
        found = []
        for position, function in enumerate(self.functions):
            traces = [row[position] - self.counts[0][position] for row in self.counts]
            if traces[-1] > 0:
                found.append(describe_function(function, traces, self.scope))
        for function in _functions(self.tf):
            if id(function) not in known and _tracing_count(function) > 0:
                # Created during the pass (a new tf.function per call): its traces have no checkpoint series.
                found.append(describe_function(function, None, self.scope))
        return found


def describe_function(function: Any, traces: list[int] | None, scope: CodeScope) -> TfFunctionRecord:
    python_function = getattr(function, "python_function", None)
    code = getattr(python_function, "__code__", None)
    concrete = _concrete_functions(function)
    call_site = _call_site(concrete, scope)
    return {
        "name": str(getattr(function, "__name__", None) or getattr(python_function, "__name__", "?")),
        "def_file": None if code is None else code.co_filename,
        "def_line": None if code is None else code.co_firstlineno,
        "file": call_site[0], "line": call_site[1], "function": call_site[2],
        "code": code_line(call_site[0], call_site[1]),
        "traces": traces, "tracing_count": _tracing_count(function), "concrete_functions": len(concrete),
        "varying": varying_arguments(python_function, concrete[-MAX_SIGNATURES_COMPARED:]),
    }


def _concrete_functions(function: Any) -> list[Any]:
    try:
        return list(function._list_all_concrete_functions())
    except Exception:  # noqa: BLE001 - a private API that may move: the count and signatures are extras
        return []


def _call_site(concrete: list[Any], scope: CodeScope) -> tuple[str, int, str | None]:
    """The user's line that traced the newest concrete function (outside the trace), from its ops' stacks."""
    for function in reversed(concrete):
        for op in getattr(function.graph, "get_operations", lambda: [])():
            key = _site_key(_op_stack(op), scope)
            if key[1] > 0:
                return key
    return ("<no frame in your code>", 0, None)


def varying_arguments(python_function: Any, concrete: list[Any]) -> list[VaryingArgument]:
    """The arguments whose traced value or spec differs between concrete functions, with examples."""
    try:
        names = list(inspect.signature(python_function).parameters)
    except (TypeError, ValueError):
        names = []
    seen: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for function in concrete:
        try:
            args, kwargs = function.structured_input_signature
        except Exception:  # noqa: BLE001 - no signature to compare
            continue
        named = {**{names[i] if i < len(names) else f"arg{i}": value for i, value in enumerate(args)}, **kwargs}
        for name, value in named.items():
            shown = _describe_value(value)
            seen.setdefault(name, [])
            if shown not in seen[name]:
                seen[name].append(shown)
            kinds[name] = "tensor" if hasattr(value, "shape") and hasattr(value, "dtype") else type(value).__name__
    return [{"argument": name, "kind": kinds[name], "examples": values[-3:], "distinct": len(values)}
            for name, values in seen.items() if len(values) > 1]


def _describe_value(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        shape = list(value.shape) if value.shape.rank is not None else "[?]"
        return f"{getattr(value.dtype, 'name', value.dtype)}{shape}"
    return repr(value)[:40]


def tensorflow_loaded() -> Any:
    """The tensorflow module if the workload imported it (never imported here)."""
    return sys.modules.get("tensorflow")
