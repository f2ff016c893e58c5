"""The recommendation is a pure function of summary.json entries: ranking, factors, code changes."""

from __future__ import annotations

import numpy as np
import pytest

from leakhunt.analysis.plateau_levels import Levels, find_releases, levels_from_summary
from leakhunt.analysis.recommendation import code_change, rank_strategies, recommend
from leakhunt.report.formatting import levels_text, peak_phrase, speed_phrase, versus_text
from leakhunt.strategies.registry import STRATEGIES

GIB = 2**30
MIB = 2**20


def entry(name: str, verdict: str, images_per_s: float | None, peak_gib: float | None = 1.0,
          builtin: str | None = None, **axes) -> dict:
    key = builtin or name
    if key in STRATEGIES:
        strategy = {"factory": "leakhunt.strategies.factory:build",
                    "factory_kwargs": {"strategy": key, "batch": 1, "resize": "none", "gpu_memory": "default",
                                       **axes},
                    "code_pattern": STRATEGIES[key].code_pattern}
    else:
        strategy = {"factory": f"examples/{name}.py:make", "factory_kwargs": {}, "code_pattern": ""}
    return {"name": name, "verdict": verdict, "memory_verdict": verdict, "images_per_s": images_per_s,
            "peak_rss_bytes": None if peak_gib is None else int(peak_gib * GIB), "strategy": strategy}


def names(ranking) -> list[str]:
    return [ranked.name for ranked in ranking]


def test_a_flat_fast_strategy_ranks_above_a_leaking_one_and_a_flat_slower_one():
    summary = {"strategies": [entry("tutorial", "leak", 30.0, 2.2),  # faster, but it leaks
                              entry("saved-model", "flat", 18.0, 1.0),
                              entry("persistent", "flat", 20.0, 1.0)]}
    recommendation = recommend(summary)
    assert names(recommendation.ranking) == ["persistent", "saved-model", "tutorial"]
    assert recommendation.recommended.name == "persistent"
    versus = {v.other.name: v for v in recommendation.versus}
    assert versus["saved-model"].speed_factor == pytest.approx(20 / 18)
    assert versus["tutorial"].speed_factor == pytest.approx(20 / 30)
    assert versus["tutorial"].peak_rss_saved_bytes == pytest.approx(1.2 * GIB, rel=1e-6)


def test_memory_classes_come_before_throughput():
    summary = {"strategies": [entry("crashy", "crashed", 99.0), entry("leaky", "leak", 50.0),
                              entry("unsure", "inconclusive", 40.0), entry("sawtooth", "plateau", 2.0),
                              entry("failing", "failed", None), entry("flat", "flat", 1.0)]}
    assert names(rank_strategies(summary["strategies"])) == ["sawtooth", "flat", "unsure", "leaky", "crashy",
                                                             "failing"]


def test_ties_in_throughput_go_to_the_smaller_peak():
    summary = {"strategies": [entry("big", "flat", 10.0, 3.0), entry("small", "flat", 10.0, 1.0)]}
    assert recommend(summary).recommended.name == "small"


def test_no_recommendation_when_nothing_runs_without_a_leak():
    recommendation = recommend({"strategies": [entry("a", "leak", 10.0), entry("b", "inconclusive", 5.0)]})
    assert recommendation.recommended is None and "no strategy ran without a leak" in recommendation.why_none
    assert names(recommendation.ranking) == ["b", "a"]
    assert recommend({"strategies": []}).recommended is None


def test_code_changes_for_built_in_strategies_only():
    tutorial, persistent = entry("tutorial", "leak", 1.0), entry("persistent", "flat", 20.0)
    change = code_change(tutorial, persistent)
    assert "graph.finalize()" in change.advice and "PR #6768" in change.advice
    assert change.before_code == STRATEGIES["tutorial"].code_pattern
    assert change.after_code == STRATEGIES["persistent"].code_pattern
    assert code_change(entry("leaky:make", "leak", 1.0), persistent) is None
    assert code_change(tutorial, entry("flat:make", "flat", 1.0)) is None
    recommendation = recommend({"strategies": [entry("leaky:make", "leak", 5.0), entry("flat:make", "flat", 4.0)]})
    assert recommendation.custom_only and recommendation.versus[0].change is None


def test_axis_changes_between_variants_of_one_strategy():
    small = entry("persistent[batch=1]", "flat", 20.0, builtin="persistent", batch=1)
    large = entry("persistent[batch=8]", "flat", 60.0, builtin="persistent", batch=8)
    recommendation = recommend({"strategies": [small, large]})
    assert recommendation.recommended.name == "persistent[batch=8]"
    change = recommendation.versus[0].change
    assert change.advice == "" and change.axis_changes == (("batch size", "1", "8"),)


def test_factor_phrases():
    summary = {"strategies": [entry("persistent", "flat", 20.0, 1.0), entry("tutorial", "leak", 1.37, 2.2),
                              entry("saved-model", "flat", 19.5, 1.001), entry("fast", "leak", 200.0, 0.5),
                              entry("quick", "leak", 25.0, 0.9)]}
    versus = {v.other.name: v for v in recommend(summary).versus}
    assert versus_text(versus["tutorial"]) == "14.6x the images/s of tutorial, 1.20 GiB less peak RSS"
    assert versus_text(versus["saved-model"]) == "about the images/s of saved-model, the same peak RSS"
    assert speed_phrase(versus["fast"]) == "10.0x fewer images/s than fast"
    assert speed_phrase(versus["quick"], named=False) == "20% fewer images/s"
    assert peak_phrase(versus["fast"]) == "512 MiB more peak RSS"


def test_levels_text_and_fallback_from_summary():
    levels = Levels("rss", "bytes", "sawtooth", 2.31 * GIB, 3.07 * GIB, releases=6, release_size=650 * MIB,
                    period_iterations=18.4)
    assert levels_text(levels) == "2.31–3.07 GiB, releases ~650 MiB every ~18 iterations"
    stopped = Levels("heap", "bytes", "stopped", 10 * MIB, 12 * MIB)
    assert levels_text(stopped) == "C heap 10.0–12.0 MiB, grew, then stopped"
    plateau = {"verdict": "plateau", "memory_verdict": "plateau", "pattern": "sawtooth",
               "memory": {"rss": {"verdict": "plateau", "pattern": "sawtooth", "unit": "bytes",
                                  "start_level_bytes": 2.6 * GIB, "end_level_bytes": 2.9 * GIB,
                                  "peak_bytes": 3.13 * GIB}}}
    assert levels_text(levels_from_summary(plateau)) == "bounded, peak 3.13 GiB"
    assert levels_from_summary({"verdict": "leak", "memory": {}}) is None


def test_find_releases():
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0.5, 1, 2, 3], dtype=float)
    positions, sizes = find_releases(np.arange(12.0), y, 2.0)
    assert positions == [4.0, 8.0] and sizes == [3.0, 2.5]
