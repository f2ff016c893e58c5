"""The C-heap witness: glibc's bytes in use (mallinfo2) read at every line of the user's code, each line charged
with what the heap grew while it ran, less what the user's functions it called were charged themselves.

It exists for native growth an allocation tracker cannot see: malloc reached through a pointer the tracker
did not patch (ctypes.CDLL(None).malloc: measured, memray sees none of it), or an allocator of its own.
A line's charge counts frees too (a line that drops the last reference to an older buffer is charged
minus that buffer), so the analysis only names a line where the witness's total growth exceeds what the
tracker saw, and says "native, not attributable" where it cannot tell which line.

sys.settrace, not sys.setprofile: the profiler's c_call event does not fire for ctypes foreign functions,
and memray keeps the profile hook for itself. Only the main thread is traced (steps run there). Frames of
a function TensorFlow is tracing are not followed: their growth stays with the line that called it.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from leakhunt.attribution.frames import CodeScope, is_tracing_frame

# How far up a new user frame's callers are searched for a tracing frame (TF's tracing stacks are ~30 deep).
TRACE_SEARCH_FRAMES = 200


class HeapWitness:
    """settrace-based per-line C-heap accounting; read `charged` (cumulative bytes per (file, line))."""

    def __init__(self, scope: CodeScope, read_heap: Callable[[], int | None]):
        self.scope = scope
        self.read_heap = read_heap
        self.charged: dict[tuple[str, int], int] = {}
        self.functions: dict[tuple[str, int], str] = {}
        # Active user frames, innermost last: [frame, line, heap at line start, heap at call, nested charge].
        self._active: list[list[Any]] = []
        # A frame that returned: its locals are freed only after the return event, so what the heap does until
        # the next event is its last line's (key, heap at return, the user frame it returned to, heap at call).
        self._pending: tuple[tuple[str, int], int, list[Any] | None, int] | None = None
        self._user_code: dict[Any, bool] = {}

    def start(self) -> bool:
        if self.read_heap() is None:
            return False
        sys.settrace(self._on_call)
        return True

    def stop(self) -> None:
        sys.settrace(None)
        self.settle()
        self._active.clear()

    def pause(self) -> None:
        """Between steps (a checkpoint): settle the returned step, then stop tracing until resume()."""
        self.settle()
        sys.settrace(None)

    def resume(self) -> None:
        sys.settrace(self._on_call)

    def settle(self) -> None:
        """Charge a returned frame's teardown (its locals' frees) to its last line; call before a checkpoint."""
        if self._pending is None:
            return
        key, heap_at_return, parent, heap_at_call = self._pending
        self._pending = None
        heap = self.read_heap() or 0
        self._add(key, heap - heap_at_return, None)
        if parent is not None:
            parent[4] += heap - heap_at_call

    def _is_user(self, code: Any) -> bool:
        known = self._user_code.get(code)
        if known is None:
            known = self._user_code[code] = self.scope.is_user(code.co_filename)
        return known

    def _inside_trace(self, frame: Any) -> bool:
        """True when a tf.function trace runs between this frame and the user frame that called it."""
        parent = self._active[-1][0] if self._active else None
        caller = frame.f_back
        for _ in range(TRACE_SEARCH_FRAMES):
            if caller is None or caller is parent:
                return False
            code = caller.f_code
            if is_tracing_frame((code.co_name, code.co_filename, 0)):
                return True
            caller = caller.f_back
        return False

    def _on_call(self, frame: Any, event: str, arg: Any) -> Any:
        if event != "call" or not self._is_user(frame.f_code) or self._inside_trace(frame):
            return None
        self.settle()
        heap = self.read_heap() or 0
        self._active.append([frame, frame.f_lineno, heap, heap, 0])
        return self._on_event

    def _add(self, key: tuple[str, int], delta: int, function: str | None) -> None:
        if delta:
            self.charged[key] = self.charged.get(key, 0) + delta
        if function is not None and key not in self.functions:
            self.functions[key] = function

    def _charge(self, entry: list[Any], heap: int) -> None:
        self._add((entry[0].f_code.co_filename, entry[1]), heap - entry[2] - entry[4], entry[0].f_code.co_name)

    def _returned(self, entry: list[Any], frame: Any, heap: int) -> None:
        parent = self._active[-1] if self._active else None
        caller = frame.f_back
        key = (frame.f_code.co_filename, entry[1])
        if parent is not None and caller is parent[0]:
            self._pending = (key, heap, parent, entry[3])
        elif caller is not None and self.scope.is_leakhunt(caller.f_code.co_filename):
            self._pending = (key, heap, None, entry[3])
        elif parent is not None:
            # Back into library code: what it does next is not this frame's; its teardown is not charged.
            parent[4] += heap - entry[3]

    def _on_event(self, frame: Any, event: str, arg: Any) -> Any:
        self.settle()
        if not self._active or self._active[-1][0] is not frame:
            return self._on_event  # an event of a frame entered before start(): nothing to charge
        entry = self._active[-1]
        if event == "line":
            if frame.f_lineno == entry[1]:
                return self._on_event  # a loop on one line: one charge when the line changes is the same
            heap = self.read_heap() or 0
            self._charge(entry, heap)
            entry[1], entry[2], entry[4] = frame.f_lineno, heap, 0
        elif event == "return":
            heap = self.read_heap() or 0
            self._charge(entry, heap)
            self._active.pop()
            self._returned(entry, frame, heap)
        return self._on_event
