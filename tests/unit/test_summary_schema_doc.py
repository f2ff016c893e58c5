"""docs/summary-schema.md is the contract CI gates read: every field summary.json has is documented there, and
every field with a table row of its own there (outside the comparisons' section) is in the summary."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import attribution_raw as ar
from helpers.run_folder import write_default_four
from leakhunt.report.build import build_outputs

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "summary-schema.md"
# `leakhunt compare`'s own file, documented in the same page: not part of summary.json.
COMPARISON_SECTION = "## Comparisons"


def _schema_text() -> str:
    return SCHEMA.read_text(encoding="utf-8").split(COMPARISON_SECTION)[0]


def _table_fields() -> set[str]:
    """The backticked names in the first column of the tables: each row documents a field of its own."""
    names: set[str] = set()
    for line in _schema_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z0-9_]+)`", line.split("|")[1]))
    return names


def _mentioned_names() -> set[str]:
    """Every backticked name, tables and prose (a few groups of fields are documented as one paragraph)."""
    return set(re.findall(r"`([A-Za-z0-9_]+)`", _schema_text()))


def test_every_summary_field_is_documented_and_every_documented_field_exists(tmp_path):
    run = write_default_four(tmp_path / "run")
    # The tutorial leaks: give it an attribution pass, so `attribution` and its sites have every field.
    raw = ar.raw([ar.site(ar.SERVE, 41, "step", "x = flip(x)", native=ar.series(ar.linear(400_000)))],
                 heap_rate=400_000)
    ar.write_attribution(next((run / "strategies").glob("00-*")), raw, ar.done_status())
    summary = build_outputs(run, formats=("json",))
    entry = summary["strategies"][0]
    attribution = entry["attribution"]
    assert attribution["status"] == "done" and attribution["sites"]
    actual = (set(summary) | set(summary["run"]) | set(entry) | set(summary["run"]["config"]) | set(attribution)
              | set(attribution["sites"][0]))
    undocumented = actual - _mentioned_names()
    assert not undocumented, f"undocumented in docs/summary-schema.md: {sorted(undocumented)}"
    # The series table's first column names series (rss, heap, ...), not fields.
    stale = _table_fields() - actual - {"rss", "heap", "py_blocks", "tf_current", "rss_parent", "uss", "gpu_process",
                                        "gpu_used"}
    assert not stale, f"documented in docs/summary-schema.md but not in summary.json: {sorted(stale)}"
