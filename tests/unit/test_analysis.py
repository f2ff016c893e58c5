"""Analysis on synthetic series with known truth: verdicts, intervals, warm-up, latency, hints, speed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.rss_series import BASE_RSS_BYTES, MIB, NOISE_BYTES, fabricate_rss, judged
from leakhunt.analysis.hints import counter_growth, find_hints
from leakhunt.analysis.latency import latency_stats
from leakhunt.analysis.leak import PAGE_BYTES, estimate_growth
from leakhunt.analysis.projection import project_exhaustion
from leakhunt.analysis.verdict import MemoryJudgement, judge_growth, strategy_verdict
from leakhunt.report.build import leak_found


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind, verdict, pattern", [
    ("linear", "leak", "linear"),
    ("flat", "flat", "none"),
    ("plateau", "plateau", "stopped"),
    ("sawtooth", "plateau", "sawtooth"),
    ("linear_with_transient_dips", "leak", "linear"),
    ("sawtooth_rising", "leak", "sawtooth-rising"),
    ("step", "plateau", "step"),
    ("slowing", "leak", "slowing"),
    ("warmup_then_linear", "leak", "linear"),
    ("warmup_then_flat", "flat", "none"),
])
def test_verdict_of_known_shapes(kind, verdict, pattern, seed):
    # GIVEN a series with a known shape WHEN judged THEN the verdict and pattern are the true ones
    _, judgement = judged(kind, seed=seed)
    assert (judgement.verdict, judgement.pattern) == (verdict, pattern), judgement.reason


def test_one_kib_per_iteration_over_5000_iterations_is_a_leak_even_in_coarse_steps():
    # A Python leak shows up in RSS as 132 KiB heap extensions, not a smooth line.
    x = np.arange(0, 5000, 2.0)
    y = BASE_RSS_BYTES + np.floor(1024 * x / (132 * 1024)) * 132 * 1024
    y = y + np.random.default_rng(3).normal(0, NOISE_BYTES, len(x))
    judgement = judge_growth(estimate_growth("rss", x, np.floor(y / PAGE_BYTES) * PAGE_BYTES))
    assert judgement.verdict == "leak"


def test_pure_page_quantisation_is_flat():
    x = np.arange(0, 5000, 1.0)
    y = np.full(len(x), float(BASE_RSS_BYTES))
    judgement = judge_growth(estimate_growth("rss", x, y))
    assert judgement.verdict == "flat"


def test_warmup_end_is_reported_where_the_climb_settles():
    estimate, judgement = judged("warmup_then_linear")
    assert 600 <= estimate.warmup_end_iteration <= 1250
    assert abs(estimate.fit.slope - 1024) < 50  # the warm-up climb is not charged to the slope
    estimate, _ = judged("linear")
    assert estimate.warmup_end_iteration == 0


def test_slowing_growth_reports_early_and_recent_rates():
    estimate, judgement = judged("slowing")
    assert estimate.early_fit.slope > 2 * estimate.recent_fit.slope > 0
    assert "early" in judgement.reason and "recent" in judgement.reason


def test_short_run_is_inconclusive_and_says_how_many_more_iterations():
    _, judgement = judged("linear", iterations=30, iterations_per_sample=1)
    assert judgement.verdict == "inconclusive"
    assert judgement.more_iterations_needed and judgement.more_iterations_needed >= 20


def test_noisy_run_is_inconclusive_with_an_estimate():
    _, judgement = judged("linear", iterations=2000, iterations_per_sample=10, noise_bytes=1 * MIB)
    assert judgement.verdict == "inconclusive"
    assert judgement.pattern == "noisy"
    assert judgement.more_iterations_needed and judgement.more_iterations_needed > 0


def test_no_data_is_inconclusive_not_an_error():
    assert estimate_growth("rss", [], []) is None
    assert judge_growth(None).verdict == "inconclusive"


def test_100k_samples_are_judged():
    # How fast: benchmarks/report_scale.py (a 100,000-iteration soak analysed and rendered), not a timed unit
    # test on a shared machine.
    x, y = fabricate_rss("linear", iterations=100_000, iterations_per_sample=1)
    judgement = judge_growth(estimate_growth("rss", x, y))
    assert judgement.verdict == "leak"


def test_strategy_verdict_crashed_keeps_memory_judgement():
    leak = MemoryJudgement("leak", "linear", "grows")
    flat = MemoryJudgement("flat", "none", "flat")
    crashed = strategy_verdict("crashed", {"rss": leak})
    assert (crashed.verdict, crashed.memory_verdict) == ("crashed", "leak")
    assert strategy_verdict("failed", {"rss": flat}).verdict == "failed"
    assert strategy_verdict("hung", {"rss": flat}).verdict == "crashed"
    gpu_leak = strategy_verdict("completed", {"rss": flat, "gpu_process": leak})
    assert (gpu_leak.verdict, gpu_leak.deciding_series) == ("leak", "gpu_process")


def test_latency_percentiles_throughput_and_drift():
    rng = np.random.default_rng(0)
    n = 5000
    x = np.arange(n, dtype=float)
    flat = 20 + rng.gamma(4, 0.5, n)
    starts = np.cumsum(flat) / 1000
    stats_flat = latency_stats(x, flat, starts, images_per_step=4)
    assert stats_flat.p50_ms == pytest.approx(np.percentile(flat, 50))
    assert stats_flat.max_ms == pytest.approx(flat.max())
    assert stats_flat.images_per_s == pytest.approx(4 / (np.mean(flat) / 1000), rel=0.01)
    low, high = stats_flat.drift_ci95_ms_per_1k_iter
    assert low <= 0 <= high and not stats_flat.drift_significant
    slowing = flat + 0.002 * x  # 2 ms per 1000 iterations
    reference_x = x[::50]  # the machine-speed kernel, steady: the slowdown is the workload's
    stats_slow = latency_stats(x, slowing, starts, reference_iteration=reference_x,
                               reference_ms=0.3 + rng.normal(0, 0.003, reference_x.size))
    low, high = stats_slow.drift_ci95_ms_per_1k_iter
    assert low <= 2.0 <= high and stats_slow.drift_significant


def test_latency_of_nothing():
    stats_empty = latency_stats(np.empty(0), np.empty(0), np.empty(0))
    assert stats_empty.count == 0 and stats_empty.p50_ms is None


def _flat_latency():
    x = np.arange(1000, dtype=float)
    return latency_stats(x, np.full(1000, 10.0), x / 100)


def test_hints_name_their_evidence():
    x = np.arange(0, 5000, 10, dtype=float)
    counters = {
        "graph_ops": counter_growth(x, 1000 + 3 * x),
        "tracing_count": counter_growth(x, np.floor(x / 1000)),
        "gc_objects": counter_growth(x, 50000 + 2 * x),
    }
    leak = {"rss": MemoryJudgement("leak", "linear", "grows")}
    kinds = [h.kind for h in find_hints(leak, counters, _flat_latency(), "completed", "completed", False, None)]
    assert kinds[:3] == ["graph_growth", "retracing", "python_references"]
    assert "native_memory" not in kinds
    hints = find_hints(leak, {"graph_ops": counter_growth(x, np.full(len(x), 1000.0))}, _flat_latency(),
                       "completed", "completed", False, None)
    assert [h.kind for h in hints] == ["native_memory"]
    assert all(h.evidence and h.advice for h in hints)


def test_latency_drift_without_memory_growth_is_a_finding():
    x = np.arange(5000, dtype=float)
    latency = latency_stats(x, 10 + 0.01 * x, x / 100, reference_iteration=x[::50], reference_ms=np.full(100, 0.3))
    hints = find_hints({"rss": MemoryJudgement("flat", "none", "flat")}, {}, latency, "completed", "", False, None)
    assert [h.kind for h in hints] == ["latency_drift"]
    assert "no memory growth" in hints[0].evidence


def test_projection_to_exhaustion():
    projection = project_exhaustion("host_memory", 8 * 2**30, 2 * 2**30, 1 * MIB, 0.05)
    assert projection.iterations_to_exhaust == pytest.approx(6 * 1024)
    assert projection.time_to_exhaust_s == pytest.approx(6 * 1024 * 0.05)
    assert project_exhaustion("host_memory", 8 * 2**30, 2 * 2**30, 0.0, 0.05) is None
    assert project_exhaustion("host_memory", None, 2 * 2**30, 10.0, 0.05) is None


def test_leak_found_threshold():
    summary = {"strategies": [
        {"verdict": "flat", "memory_verdict": "flat", "rss_slope_bytes_per_iter": 0.0},
        {"verdict": "crashed", "memory_verdict": "leak", "deciding_slope_bytes_per_iter": 2048.0},
    ]}
    assert leak_found(summary)
    assert leak_found(summary, 1024)
    assert not leak_found(summary, 4096)
    assert not leak_found({"strategies": []})


def test_memory_series_drops_build_and_warmup_samples():
    from leakhunt.analysis.leak import memory_series

    samples = pd.DataFrame({"steps_done": [-1, 0, 5, 10, 11, 12], "rss_bytes": [1, 2, 3, 4, np.nan, 6]})
    x, y = memory_series(samples, "rss_bytes", warmup_steps=10)
    assert list(x) == [0, 2] and list(y) == [4, 6]


def test_samples_after_the_loop_ended_are_not_judged():
    from leakhunt.analysis.summarize import samples_during_loop

    iterations = pd.DataFrame({"start_monotonic_s": [10.0, 10.1], "latency_ms": [50.0, 50.0]})
    samples = pd.DataFrame({"t_monotonic_s": [10.05, 10.15, 10.3, 11.0], "rss_bytes": [1, 2, 3, 4]})
    assert list(samples_during_loop(samples, iterations)["rss_bytes"]) == [1, 2]


def test_samples_while_the_child_lingers_before_close_are_judged():
    from leakhunt.analysis.summarize import samples_during_loop

    iterations = pd.DataFrame({"start_monotonic_s": [10.0, 10.1], "latency_ms": [50.0, 50.0]})
    samples = pd.DataFrame({"t_monotonic_s": [10.05, 10.15, 10.3, 11.0], "rss_bytes": [1, 2, 3, 4]})
    kept = samples_during_loop(samples, iterations, close_started_s=10.35)
    assert list(kept["rss_bytes"]) == [1, 2, 3]


def test_a_sawtooth_with_too_few_teeth_is_inconclusive_not_a_leak():
    # Two teeth whose second starts higher than the first (the first began at the model's import level).
    x = np.arange(0, 600, 0.5)
    y = BASE_RSS_BYTES + 2 * MIB * (x % 300) + np.where(x >= 300, 100 * MIB, 0)
    estimate = estimate_growth("rss", x, np.floor(y / PAGE_BYTES) * PAGE_BYTES)
    judgement = judge_growth(estimate)
    assert judgement.verdict == "inconclusive"
    assert judgement.pattern == "sawtooth"
    assert judgement.more_iterations_needed and judgement.more_iterations_needed > 0


def test_count_releases():
    from leakhunt.analysis.leak import count_releases

    assert count_releases((0, 5, 10, 2, 6, 10, 1, 4), 5) == 2
    assert count_releases((0, 1, 2, 3), 1) == 0
