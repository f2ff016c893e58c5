"""The Ray backend's hosts note (strategies placed on several hosts) in summary.json, summary.md and report.html,
rendered from a synthetic run folder; the note itself is built in tests/unit/test_ray_options.py."""

from __future__ import annotations

import json

from helpers.run_folder import write_run, write_strategy
from leakhunt.backends.ray_placement import hosts_note
from leakhunt.report.build import build_outputs
from leakhunt.rundir.config import StrategySpec


def spec(name: str) -> StrategySpec:
    return StrategySpec(name=name, factory="leakhunt.strategies.factory:build", factory_kwargs={"device": None})


def test_report_html_and_summary_md_show_the_hosts_note(tmp_path):
    root = write_run(tmp_path / "run", iterations=300)
    write_strategy(root, 0, "a", "flat", 50.0, iterations=300)
    write_strategy(root, 1, "b", "leak", 50.0, iterations=300)
    specs = (spec(name="a"), spec(name="b"))
    note = hosts_note(specs, {0: {"node_id": "n1", "host_name": "h1<i>"}, 1: {"node_id": "n2", "host_name": "h2"}})
    meta = json.loads((root / "run.json").read_text())
    (root / "run.json").write_text(json.dumps({**meta, "backend": {"name": "ray", "hosts_note": note}}))
    summary = build_outputs(root)
    assert summary["run"]["hosts_note"] == note and summary["run"]["backend"] == "ray"
    report = (root / "report.html").read_text()
    assert "Several hosts:" in report and "h1&lt;i&gt;" in report  # escaped like every user string
    assert "**Several hosts:**" in (root / "summary.md").read_text()
