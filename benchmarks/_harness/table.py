"""Printing a benchmark's results: Markdown tables (for docs/benchmarks.md), aligned text tables, the JSON file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def markdown_table(header: Sequence[str], align: str, rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table's lines; `align` has one letter per column: "l" (text) or "r" (a number)."""
    if len(align) != len(header):
        raise ValueError(f"{len(header)} columns, {len(align)} alignments")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def text_table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> list[str]:
    """An aligned text table's lines: `columns` are (title, format spec such as "<28" or ">11.3f"); a title is
    padded to the spec's alignment and width, a cell formatted with the whole spec (a string cell with
    its alignment and width only)."""
    def width_of(spec: str) -> str:
        return spec.split(".")[0].rstrip("fdgs%,")

    lines = [" ".join(f"{title:{width_of(spec)}}" for title, spec in columns)]
    for row in rows:
        lines.append(" ".join(f"{cell:{spec if not isinstance(cell, str) else width_of(spec)}}"
                              for cell, (_, spec) in zip(row, columns, strict=True)))
    return lines


def write_json(path: Path | None, data: Any, indent: int = 1) -> None:
    """Write the benchmark's results to `path` (nothing without one) and say where, as the last line."""
    if path is None:
        return
    path.write_text(json.dumps(data, indent=indent, default=str), encoding="utf-8")
    print(f"raw results: {path}")
