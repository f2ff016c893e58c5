"""The attribution in every output (summary.json, summary.md, report.html, the terminal), rebuilt from the run
folder; and a failed attribution pass that changes no verdict."""

from __future__ import annotations

import json

from helpers import attribution_raw as ar
from helpers.run_folder import XSS, write_default_four
from leakhunt.report.build import build_outputs
from leakhunt.report.terminal import terminal_summary_lines

CODE = f"x = tf.image.random_flip_left_right(x)  # {XSS}"


def tutorial_folder(run):
    return next((run / "strategies").glob("00-*"))


def test_where_it_grows_in_every_output_with_user_strings_escaped(tmp_path):
    run = write_default_four(tmp_path / "run")
    raw = ar.raw([ar.site(f"/srv/{XSS}/serve.py", 41, "step", CODE, native=ar.series(ar.linear(400_000)))],
                 heap_rate=400_000)
    ar.write_attribution(tutorial_folder(run), raw, ar.done_status())
    summary = build_outputs(run)
    site = summary["strategies"][0]["attribution"]["sites"][0]
    assert (site["line"], site["code"]) == (41, CODE)
    markdown = (run / "summary.md").read_text(encoding="utf-8")
    assert "### Where it grows" in markdown and "`serve.py:41`" in markdown
    assert "random_flip_left_right" in markdown
    html = (run / "report.html").read_text(encoding="utf-8")
    assert html.count("<h3>Where it grows</h3>") == 1  # the leaking strategy only
    assert "random_flip_left_right" in html and XSS not in html and "&lt;script&gt;" in html
    assert "stack" in html
    assert any(line.strip().startswith("where: serve.py:41") for line in terminal_summary_lines(summary))


def test_a_failed_attribution_pass_changes_no_verdict_and_says_so(tmp_path, default_four_built):
    baseline = default_four_built[1]  # the same four strategies without an attribution pass
    run = write_default_four(tmp_path / "run")
    ar.write_attribution(tutorial_folder(run), {"attribution_format": 1, "error": "MemoryError: "},
                         {"outcome": "failed", "reason": "the attribution child exited with code 3", "wall_s": 4.0})
    summary = build_outputs(run)
    for before, after in zip(baseline["strategies"], summary["strategies"], strict=True):
        assert {key: value for key, value in after.items() if key != "attribution"} == \
               {key: value for key, value in before.items() if key != "attribution"}
    assert summary["strategies"][0]["attribution"]["status"] == "failed: MemoryError: "
    assert summary["leak_found"] == baseline["leak_found"]
    assert "where: failed: MemoryError" in (run / "summary.md").read_text(encoding="utf-8")
    assert "Attribution failed: MemoryError" in (run / "report.html").read_text(encoding="utf-8")


def test_strategies_that_do_not_leak_get_no_attribution_pass_and_no_section(default_four_built):
    run, built = default_four_built  # the four default strategies, no attribution files
    summary = json.loads(json.dumps(built))
    statuses = {entry["name"]: entry["attribution"]["status"] for entry in summary["strategies"]}
    assert statuses["persistent"] == "skipped: the verdict is flat, not a leak"
    assert statuses["tutorial"] == "skipped: no attribution pass in this run folder"
    assert "Where it grows" in (run / "report.html").read_text(encoding="utf-8")  # the leak says it was skipped
