"""Per-site live bytes at each checkpoint, as the child gathers them from a tracker (memray or tracemalloc).

A site is the user's line a stack is charged to (frames.site_index); allocations whose stack has no user
frame go to NO_USER_SITE, which the analysis reports as "not attributable", never as a line. Each site keeps
its live bytes per kind ("python": Python's allocators; "native": malloc, mmap and the rest) at every
checkpoint, and the stack of the allocation that grew most there (for the report).
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from leakhunt.attribution.frames import CodeScope, Frame, site_index, traced_body_frame

if TYPE_CHECKING:
    from leakhunt.rundir.attribution_records import SiteRecord, StackFrame

NO_USER_SITE = ("<no frame in your code>", 0)
STACK_FRAMES_KEPT = 40  # the report shows a site's path; deeper frames add nothing a reader uses


def code_line(filename: str, line: int) -> str:
    """The source line as the child sees it (the report may be rebuilt where the file is not)."""
    return linecache.getline(filename, line).strip() if line > 0 else ""


@dataclass
class SiteSeries:
    """One site's live bytes per kind at each checkpoint, and the stack that grew most there."""

    filename: str
    line: int
    function: str | None
    checkpoints: int
    bytes_by_kind: dict[str, list[float | None]] = field(default_factory=dict)
    best_stack: Sequence[Frame] = ()
    best_growth_bytes: float = float("-inf")
    traced_from: Frame | None = None

    def add(self, kind: str, live_bytes: Sequence[float | None]) -> None:
        """Add one allocation stack's live bytes; None marks a checkpoint the tracker could not read."""
        series = self.bytes_by_kind.setdefault(kind, [0.0] * self.checkpoints)
        for position, value in enumerate(live_bytes):
            previous = series[position]
            series[position] = None if value is None or previous is None else previous + value

    def offer_stack(self, stack: Sequence[Frame], growth_bytes: float, traced_from: Frame | None) -> None:
        if growth_bytes > self.best_growth_bytes:
            self.best_growth_bytes = growth_bytes
            self.best_stack = tuple(stack[:STACK_FRAMES_KEPT])
            self.traced_from = traced_from

    def to_json(self, scope: CodeScope) -> SiteRecord:
        return {
            "file": self.filename, "line": self.line, "function": self.function,
            "code": code_line(self.filename, self.line),
            "bytes": {kind: [None if value is None else int(value) for value in values]
                      for kind, values in sorted(self.bytes_by_kind.items())},
            "stack": [_frame_json(frame, scope) for frame in self.best_stack],
            "traced_code": None if self.traced_from is None else _frame_json(self.traced_from, scope),
        }


def _frame_json(frame: Frame, scope: CodeScope) -> StackFrame:
    function, filename, line = frame
    user = scope.is_user(filename)
    return {"function": function, "file": filename, "line": line, "user": user,
            "code": code_line(filename, line) if user else ""}


class SiteTable:
    """Sites keyed by (filename, line), built from (stack, kind, live bytes per checkpoint) entries."""

    def __init__(self, scope: CodeScope, checkpoints: int):
        self.scope = scope
        self.checkpoints = checkpoints
        self.sites: dict[tuple[str, int], SiteSeries] = {}
        self._site_of_stack: dict[Any, tuple[tuple[str, int], str | None, Frame | None]] = {}

    def _locate(self, stack: Sequence[Frame], stack_key: Any) -> tuple[tuple[str, int], str | None, Frame | None]:
        known = self._site_of_stack.get(stack_key)
        if known is None:
            position = site_index(stack, self.scope)
            if position is None:
                known = (NO_USER_SITE, None, None)
            else:
                function, filename, line = stack[position]
                known = ((filename, line), function, traced_body_frame(stack, self.scope, position))
            self._site_of_stack[stack_key] = known
        return known

    def add(self, stack: Sequence[Frame], kind: str, live_bytes: Sequence[float | None],
            stack_key: Any = None) -> None:
        key, function, traced_from = self._locate(stack, tuple(stack) if stack_key is None else stack_key)
        site = self.sites.get(key)
        if site is None:
            site = self.sites[key] = SiteSeries(key[0], key[1], function, self.checkpoints)
        site.add(kind, live_bytes)
        read = [value for value in live_bytes if value is not None]
        site.offer_stack(stack, read[-1] - read[0] if read else 0.0, traced_from)

    def to_json(self, min_change_bytes: float) -> list[SiteRecord]:
        """Sites whose bytes moved by at least min_change_bytes between any two checkpoints (the rest is
        noise no slope can come from, and would only make the file large)."""
        kept = []
        for site in self.sites.values():
            moved = max((_spread(values) for values in site.bytes_by_kind.values()), default=0.0)
            if moved >= min_change_bytes or site.line == 0:
                kept.append(site.to_json(self.scope))
        return kept


def _spread(values: Sequence[float | None]) -> float:
    read = [value for value in values if value is not None]
    return max(read) - min(read) if read else 0.0
