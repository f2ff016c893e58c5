"""Which frame of a stack is "the user's line": the innermost frame in the user's own code, outside any
function that TensorFlow was tracing at the time. Pure: the library roots are given, nothing is imported.

A stack is a sequence of (function, filename, line) tuples, innermost first (memray's and tracemalloc's
order once reversed). "User code" is every file outside the standard library, site-packages (TensorFlow,
Keras, NumPy, ...), generated code and leakhunt itself; for a built-in strategy, leakhunt's strategy classes
(the step() code that stands for the user's serving code) are the user's, while its shared helpers (the
mask post-processing, as the OD API's utils_ops are to the tutorial) are library.

A traced tf.function body runs once per trace, inside TensorFlow's tracing machinery: what it allocates is
kept because the function was traced again, so it is charged to the line that called the function (the
first user frame outside the trace), not to the body line that happened to run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

Frame = tuple[str, str, int]  # (function, filename, line)

# Frames that mean "a Python function is being traced into a graph here": user frames inside belong to the
# trace. func_graph_from_py_func is where tf.function, tf.data and Keras' compiled functions all trace.
TRACING_FRAMES = (("func_graph_from_py_func", os.path.join("framework", "func_graph.py")),)
# Code TensorFlow generates and runs in place of the user's (autograph's converted functions).
GENERATED_MARKERS = ("__autograph_generated_file",)
# leakhunt's own files that are the user's code when a built-in strategy runs: the strategy classes.
BUILTIN_USER_MODULES = (os.path.join("strategies", "tf1.py"), os.path.join("strategies", "tf2.py"))


@dataclass
class CodeScope:
    """Decides which files are the user's code; caches the answer per filename."""

    library_roots: tuple[str, ...]
    leakhunt_root: str
    builtin_strategy: bool = False
    extra_user_roots: tuple[str, ...] = ()
    _cache: dict[str, bool] = field(default_factory=dict)

    def is_user(self, filename: str) -> bool:
        known = self._cache.get(filename)
        if known is None:
            known = self._cache[filename] = self._decide(filename)
        return known

    def is_leakhunt(self, filename: str) -> bool:
        """leakhunt's own code (the harness that calls step()), the built-in strategy classes excepted."""
        return _under(os.path.abspath(filename), self.leakhunt_root) and not self.is_user(filename)

    def _decide(self, filename: str) -> bool:
        if not filename or filename.startswith("<") or any(marker in filename for marker in GENERATED_MARKERS):
            return False
        path = os.path.abspath(filename)
        if _under(path, self.leakhunt_root):
            relative = os.path.relpath(path, self.leakhunt_root)
            return self.builtin_strategy and relative in BUILTIN_USER_MODULES
        if any(_under(path, root) for root in self.extra_user_roots):
            return True
        return not any(_under(path, root) for root in self.library_roots)


def _under(path: str, root: str) -> bool:
    return bool(root) and (path == root or path.startswith(root.rstrip(os.sep) + os.sep))


def is_tracing_frame(frame: Frame) -> bool:
    function, filename, _ = frame
    return any(function == name and filename.endswith(suffix) for name, suffix in TRACING_FRAMES)


def site_index(stack: Sequence[Frame], scope: CodeScope) -> int | None:
    """Index (innermost = 0) of the frame a stack is charged to, or None when no frame is the user's.

    Walking outwards: the first user frame is the candidate; a tracing frame further out means the candidate
    ran inside a trace, so the next user frame outside it takes over.
    """
    candidate: int | None = None
    for position, frame in enumerate(stack):
        if candidate is None:
            if scope.is_user(frame[1]):
                candidate = position
        elif is_tracing_frame(frame):
            candidate = None
    return candidate


def traced_body_frame(stack: Sequence[Frame], scope: CodeScope, site: int) -> Frame | None:
    """The innermost user frame inside a trace, when the site was moved out of one (shown as "traced code")."""
    for position in range(site):
        if scope.is_user(stack[position][1]):
            return stack[position]
    return None
