"""benchmarks/_harness: the tables every benchmark prints, the quiet / CPU-hog repeats, and how a case's strategies
become the soak's options (built-ins by name, workloads by label, factory keyword arguments on their specs)."""

from __future__ import annotations

import pytest

from helpers import REPO_ROOT

BENCHMARKS = REPO_ROOT / "benchmarks"


@pytest.fixture
def harness(monkeypatch):
    # As `python benchmarks/X.py` has it: benchmarks/ first on sys.path, the harness imported by its bare name.
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import _harness

    return _harness


def test_markdown_table_aligns_number_columns_right(harness):
    lines = harness.markdown_table(["case", "runs"], "lr", [["`a`", 3], ["b", "-"]])
    assert lines == ["| case | runs |", "|---|---:|", "| `a` | 3 |", "| b | - |"]
    with pytest.raises(ValueError):
        harness.markdown_table(["case", "runs"], "l", [])


def test_text_table_pads_titles_and_formats_cells_with_their_column_spec(harness):
    lines = harness.text_table([("workload", "<10"), ("p50 ms", ">8.3f"), ("range", ">9")],
                               [("python", 0.9651, "(0.9-1.1)")])
    assert lines == [f"{'workload':<10} {'p50 ms':>8} {'range':>9}", f"{'python':<10} {0.9651:>8.3f} {'(0.9-1.1)':>9}"]


def test_repeats_alternate_quiet_and_hog_starting_quiet(harness):
    assert harness.conditions(3) == [(0, "quiet"), (1, "hog"), (2, "quiet")]
    assert harness.conditions(2, first_repeat=1) == [(1, "hog"), (2, "quiet")]


def test_a_case_becomes_the_soak_options_and_its_factory_kwargs_reach_the_spec(harness, tmp_path):
    from _harness.soak import config_with_kwargs, soak_options

    steps = str(BENCHMARKS / "workloads" / "bench_steps.py")
    strategies = [harness.workload("leak-64", f"{steps}:python_leak", bytes_per_step=64),
                  harness.workload("flat", f"{steps}:python_flat"), harness.builtin("tutorial")]
    options = soak_options(strategies, tmp_path / "run", dict(iterations=50, warmup=10, until_decided=False,
                                                              preset="tiny", attribute="off"))
    assert options.labels == ("leak-64", "flat") and options.strategies == ("tutorial",)
    assert not options.show_progress and options.force
    specs = {spec.name: spec for spec in config_with_kwargs(options, strategies).strategies}
    assert specs["leak-64"].factory_kwargs == {"bytes_per_step": 64}
    assert specs["flat"].factory_kwargs == {}
    assert specs["tutorial"].factory.startswith("leakhunt.strategies")
