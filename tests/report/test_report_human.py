"""The report people read: human units everywhere, bounds for bounded strategies, the recommendation first,
inline SVG plots; on a synthetic run of the four default strategies written in the on-disk format."""

from __future__ import annotations

import html.parser
import json
import re
import shutil
from pathlib import Path

import pytest

from helpers.run_folder import (
    LEAK_BYTES_PER_ITER,
    MIB,
    SAWTOOTH_PERIOD,
    SAWTOOTH_STEP_BYTES,
    XSS,
    write_default_four,
    write_run,
    write_strategy,
)
from leakhunt.report.build import build_outputs
from leakhunt.report.formatting import iterations_text, memory_text, plain_numbers
from leakhunt.report.markdown import MAX_BYTES
from leakhunt.report.terminal import terminal_summary_lines


@pytest.fixture
def four(default_four_built) -> tuple[Path, dict]:
    """The four default strategies, all three outputs built once per session (tests/report/conftest.py)."""
    return default_four_built


class _Text(html.parser.HTMLParser):
    """Every text node a person can see (SVG <text> included), not attributes or geometry."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d+")
RAW_BYTES = re.compile(r"(\d[\d,]*)(?:\.\d+)?\s*B\b")


def assert_human(text: str) -> None:
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text).group()
    for match in RAW_BYTES.finditer(text):
        assert int(match.group(1).replace(",", "")) <= 99_999, match.group()


def test_no_scientific_notation_or_raw_byte_counts_in_html_and_markdown(four):
    root, _ = four
    assert_human(visible_text((root / "report.html").read_text(encoding="utf-8")))
    assert_human((root / "summary.md").read_text(encoding="utf-8"))
    assert_human("\n".join(terminal_summary_lines(json.loads((root / "summary.json").read_text()))))


def test_summary_json_keeps_bytes(four):
    _, summary = four
    tutorial = {e["name"]: e for e in summary["strategies"]}["tutorial"]
    assert isinstance(tutorial["rss_slope_bytes_per_iter"], float)
    assert tutorial["rss_slope_bytes_per_iter"] == pytest.approx(LEAK_BYTES_PER_ITER, rel=0.02)


def test_leak_reads_in_kib_per_iteration(four):
    root, _ = four
    markdown = (root / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("|") and "tutorial" in line)
    assert re.search(r"\+435 KiB/iter \\\[\+4\d\d, \+4\d\d KiB\\\]", row), row


def test_a_bounded_strategy_shows_its_bounds_not_a_slope(four):
    root, summary = four
    entry = {e["name"]: e for e in summary["strategies"]}["reset-graph"]
    assert entry["verdict"] == "plateau" and entry["pattern"] == "sawtooth", entry["verdict_reason"]
    markdown = (root / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("|") and "reset-graph" in line)
    low, high = 2400 * MIB, 2400 * MIB + (SAWTOOTH_PERIOD - 1) * SAWTOOTH_STEP_BYTES
    assert f"{low / 2**30:.2f}–{high / 2**30:.2f} GiB" in row, row
    assert f"every ~{SAWTOOTH_PERIOD} iterations" in row, row
    assert "/iter" not in row
    page = (root / "report.html").read_text(encoding="utf-8")
    summary_table = page[page.index("<h2>Summary</h2>"):page.index("</table>", page.index("<h2>Summary</h2>"))]
    reset_row = next(r for r in summary_table.split("<tr>") if "reset-graph" in r)
    assert "GiB, releases ~" in reset_row and "/iter" not in reset_row
    terminal = next(line for line in terminal_summary_lines(summary) if "reset-graph:" in line)
    assert "/iter" not in terminal and "peak" in terminal


def test_recommendation_comes_first_with_factors_and_code_changes(four):
    root, _ = four
    markdown = (root / "summary.md").read_text(encoding="utf-8")
    assert len(markdown.encode("utf-8")) < MAX_BYTES < 4096
    first = markdown.split("\n\n")[1]
    assert first.startswith("**Use persistent**"), markdown[:300]
    tutorial_line = next(line for line in markdown.splitlines() if line.startswith("- vs tutorial"))
    assert re.search(r"1[45]\.\dx the images/s", tutorial_line), tutorial_line
    assert "less peak RSS" in tutorial_line and "graph.finalize()" in tutorial_line
    assert "- vs saved-model (flat)" in markdown and "tf.compat.v1" in markdown
    assert markdown.index("**Use persistent**") < markdown.index("| # | Strategy")
    page = (root / "report.html").read_text(encoding="utf-8")
    assert page.index('id="recommendation"') < page.index("<h2>Summary</h2>")
    assert re.search(r"Use <strong>persistent</strong>: flat, 1\d\.\dx the images/s of", page)
    assert "tensorflow/models PR #6768" in page


def test_terminal_lines_use_human_units_and_say_where_each_strategy_stopped(four):
    _, summary = four
    lines = terminal_summary_lines(summary)
    tutorial = next(line for line in lines if "tutorial:" in line)
    assert "KiB/iter" in tutorial and "stopped at 400 of 1,000: settled" in tutorial
    assert any("persistent:" in line and "ran to 1,000" in line for line in lines)
    assert any(line.strip().startswith("recommended: persistent") for line in lines)


def test_plots_are_inline_svg_with_escaped_names_and_one_color_per_strategy(tmp_path: Path):
    root = write_default_four(tmp_path / "run", iterations=300, names={"tutorial": f"tut{XSS}"})
    build_outputs(root, formats=("html",))
    page = (root / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img" not in page and "data:image/png" not in page
    assert page.count('class="plot"') == 5  # the all-strategies chart and one per strategy
    assert "tut&lt;script&gt;alert(1)&lt;/script&gt;" in page
    svgs = re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL)
    ids = re.findall(r'\bid="([^"]+)"', "".join(svgs))
    assert len(ids) == len(set(ids)), "ids must be unique across the inline SVGs"
    assert not re.search(r'href="(?!#)', "".join(svgs))
    overlay = svgs[0]
    for color in ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"):  # each strategy's color, in run order
        assert color in overlay
    assert "#d62728" in svgs[2] and "#1f77b4" not in svgs[2]  # persistent's own chart: its color only


def test_report_html_is_deterministic(four, tmp_path: Path):
    root = four[0]
    first = (root / "report.html").read_bytes(), (root / "summary.md").read_bytes()
    copy = tmp_path / "copied-run"
    shutil.copytree(root, copy)
    build_outputs(copy, formats=("html", "md"))  # the same run, rendered again (in another folder)
    assert ((copy / "report.html").read_bytes(), (copy / "summary.md").read_bytes()) == first


def test_custom_workloads_get_ranking_and_figures_without_code_advice(tmp_path: Path):
    root = write_run(tmp_path / "run", iterations=400)
    write_strategy(root, 0, "leaky:make", "leak", 5.0, 400)
    write_strategy(root, 1, "flat:make", "flat", 10.0, 400)
    build_outputs(root, formats=("md", "html"))
    markdown = (root / "summary.md").read_text(encoding="utf-8")
    assert markdown.split("\n\n")[1].startswith("**Use flat:make**")
    assert "fewer images/s" in markdown and "Change:" not in markdown
    assert "no code advice" in markdown
    assert "What to change" not in (root / "report.html").read_text(encoding="utf-8")


def test_iterations_text():
    assert iterations_text({"iterations_completed": 5000}, 5000) == "ran to 5,000"
    assert iterations_text({"iterations_completed": 212, "stopped_early": True}, 5000) == \
        "stopped at 212 of 5,000: settled"
    assert iterations_text({"iterations_completed": 40, "verdict": "crashed"}, 5000) == "ended at 40 of 5,000"
    assert iterations_text({"iterations_completed": 40}, None) == "ran to 40"


def test_memory_text_and_plain_numbers():
    leak = {"verdict": "leak", "memory_verdict": "leak", "deciding_series": "rss",
            "rss_slope_bytes_per_iter": 445294.0, "rss_slope_ci95_bytes_per_iter": [439920.0, 451243.0]}
    assert memory_text(leak) == "+435 KiB/iter [+430, +441 KiB]"
    heap = {"verdict": "leak", "memory_verdict": "leak", "deciding_series": "heap", "rss_slope_bytes_per_iter": 3.0,
            "memory": {"heap": {"unit": "bytes", "slope_bytes_per_iter": 256.0,
                                "slope_ci95_bytes_per_iter": [250.0, 262.0]}}}
    assert memory_text(heap) == "C heap +256 B/iter [+250, +262 B]"
    assert plain_numbers("latency drifts +1.2e+03 ms per 1000 iterations [+884, +1.51e+03]") == \
        "latency drifts +1,200 ms per 1000 iterations [+884, +1,510]"
    assert plain_numbers("model_1e5x.pb, 3e2") == "model_1e5x.pb, 300"


def test_no_recommendation_when_every_strategy_leaks(tmp_path: Path):
    root = write_run(tmp_path / "run", iterations=300)
    write_strategy(root, 0, "tutorial", "leak", 700.0, 300)
    write_strategy(root, 1, "leaky:make", "leak", 5.0, 300)
    summary = build_outputs(root)
    markdown = (root / "summary.md").read_text(encoding="utf-8")
    assert markdown.split("\n\n")[1].startswith("**No recommendation:** no strategy ran without a leak")
    assert "No recommendation: no strategy ran without a leak" in (root / "report.html").read_text(encoding="utf-8")
    assert any(line.startswith("  no recommendation:") for line in terminal_summary_lines(summary))


def test_a_single_strategy_is_reported_without_comparisons(tmp_path: Path):
    root = write_run(tmp_path / "run", iterations=300)
    write_strategy(root, 0, "persistent", "flat", 50.0, 300)
    summary = build_outputs(root)
    assert "**Use persistent** (flat" in (root / "summary.md").read_text(encoding="utf-8")
    assert "Use <strong>persistent</strong>: flat." in (root / "report.html").read_text(encoding="utf-8")
    assert len(terminal_summary_lines(summary)) == 1


def test_inline_svg_refuses_active_content_and_keeps_odd_names_as_text():
    from matplotlib.figure import Figure

    from leakhunt.report.plots import plot_text, to_inline_svg

    figure = Figure(figsize=(3, 2))
    axis = figure.subplots()
    odd = 'javascript: id="x" d="1.23456" $x$ <b onload=1>'
    axis.set_title(plot_text(odd))
    (line,) = axis.plot([0, 1], [0, 1])
    svg = to_inline_svg(figure, "t", odd)
    assert 'javascript: id="x" d="1.23456" $x$ &lt;b onload=1&gt;' in svg  # the name as typed, escaped
    assert svg.startswith("<svg") and 'class="plot"' in svg and "<metadata" not in svg
    line.set_url("javascript:alert(1)")
    with pytest.raises(ValueError, match="active content"):
        to_inline_svg(figure, "t", "linked")


def test_comparison_outputs_read_in_human_units(tmp_path: Path):
    from leakhunt.report.compare import compare_runs

    run_a, run_b = write_run(tmp_path / "a", 300), write_run(tmp_path / "b", 300)
    write_strategy(run_a, 0, "tutorial", "leak", 700.0, 300, seed=1)
    write_strategy(run_b, 0, "tutorial", "flat", 600.0, 300, seed=2)
    compare_runs(run_a, run_b, out_dir=tmp_path / "cmp")
    markdown = (tmp_path / "cmp" / "compare.md").read_text(encoding="utf-8")
    assert "KiB/iter" in markdown
    assert_human(markdown)
    assert_human(visible_text((tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("value_ms", "text"), [
    (0.000213, "213 ns"), (0.00004, "40.0 ns"), (0.042, "42.0 us"), (0.9994, "999 us"), (0.99996, "1.00 ms"),
    (1.55, "1.55 ms"), (669.0, "669 ms"), (1281.0, "1,281 ms"), (0.0, "0 ms"),
])
def test_latency_is_shown_in_the_unit_its_size_needs_never_0_ms(value_ms, text):
    from leakhunt.report.formatting import fmt_ms

    assert fmt_ms(value_ms) == text
