"""Two runs of the same strategies side by side: which slope and latency differences are real.

Pure statistics (the renderers in report/compare.py only format). Latency is compared net of each run's
machine-speed reference: two runs of one command minutes apart differ by 15% when the machine was busier
during one of them, and the reference, timed inside each child, says by how much the machine itself moved.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from leakhunt.analysis.latency_history import latency_sample
from leakhunt.analysis.summarize import StrategyAnalysis
from leakhunt.records import RunRecord

# Latency distributions differ "significantly" when Mann-Whitney rejects equality at this level...
LATENCY_P_VALUE = 0.01
# ...and the medians moved by at least this share: with thousands of iterations any shift is "significant",
# but run-to-run variation on one host is a couple of percent (more once the reference's own jitter is
# divided in: LATENCY_MIN_CORRECTED_CHANGE).
LATENCY_MIN_RELATIVE_CHANGE = 0.02
LATENCY_MIN_CORRECTED_CHANGE = 0.05
# When the two runs' reference kernels differ by more than this factor, the machines (or their load)
# differed too much for latencies to be compared at all.
MAX_MACHINE_SPEED_RATIO = 1.25
# Mann-Whitney on more points adds time, not information: evenly spaced subsample above this many.
LATENCY_MAX_POINTS = 20000


def _even_subsample(analysis: StrategyAnalysis, limit: int) -> np.ndarray:
    """Up to `limit` latencies standing for the strategy's distribution: an even subsample of the steps, or, for
    a run with latency blocks, evenly spaced quantiles of its merged counts."""
    history = getattr(analysis, "latency_history", None)
    if history is not None:
        return latency_sample(history, limit)
    values = analysis.latency_ms
    if len(values) <= limit:
        return values
    return values[np.linspace(0, len(values) - 1, limit).astype(int)]


def _slope_of(analysis: StrategyAnalysis) -> tuple[float | None, list[float] | None]:
    estimate = analysis.estimates.get("rss")
    if estimate is None or estimate.fit is None:
        return None, None
    return estimate.fit.slope, [estimate.fit.ci_low, estimate.fit.ci_high]


def _reference_p50(analysis: StrategyAnalysis) -> float | None:
    drift = analysis.latency.drift
    return None if drift is None else drift.reference_p50_ms


def machines_comparable(run_a: RunRecord, run_b: RunRecord, reference_a: float | None,
                        reference_b: float | None) -> tuple[bool, str]:
    """Whether two runs' latencies can be compared, and why not."""
    cpu_a, cpu_b = run_a.cpu, run_b.cpu
    if cpu_a and cpu_b and cpu_a != cpu_b:
        return False, f"different CPUs ({cpu_a} vs {cpu_b})"
    if reference_a and reference_b:
        ratio = reference_b / reference_a
        if not 1 / MAX_MACHINE_SPEED_RATIO <= ratio <= MAX_MACHINE_SPEED_RATIO:
            return False, (f"the machine ran at very different speeds (reference kernel {reference_a:.3g} ms vs "
                           f"{reference_b:.3g} ms, {ratio - 1:+.0%})")
    return True, ""


def compare_latency(a: StrategyAnalysis, b: StrategyAnalysis, comparable: bool) -> dict[str, Any]:
    p50_a, p50_b = a.latency.p50_ms, b.latency.p50_ms
    reference_a, reference_b = _reference_p50(a), _reference_p50(b)
    # With both references, latencies in units of each run's own reference kernel: the machine cancels out.
    if reference_a and reference_b:
        corrected, scale_a, scale_b = True, 1 / reference_a, 1 / reference_b
    else:
        corrected, scale_a, scale_b = False, 1.0, 1.0
    p_value = relative = corrected_relative = None
    significant = False
    if p50_a:
        relative = (p50_b - p50_a) / p50_a if p50_b is not None else None
        if corrected and p50_b is not None:
            corrected_relative = (p50_b * scale_b) / (p50_a * scale_a) - 1
    sample_a, sample_b = _even_subsample(a, LATENCY_MAX_POINTS), _even_subsample(b, LATENCY_MAX_POINTS)
    if len(sample_a) >= 2 and len(sample_b) >= 2:
        result = stats.mannwhitneyu(sample_a * scale_a, sample_b * scale_b, alternative="two-sided")
        p_value = float(result.pvalue)
        change = corrected_relative if corrected else relative
        minimum = LATENCY_MIN_CORRECTED_CHANGE if corrected else LATENCY_MIN_RELATIVE_CHANGE
        significant = bool(comparable and p_value < LATENCY_P_VALUE and change is not None
                           and abs(change) >= minimum)
    return {
        "latency_p50_a_ms": p50_a,
        "latency_p50_b_ms": p50_b,
        "latency_p50_delta_ms": None if p50_a is None or p50_b is None else p50_b - p50_a,
        "latency_p50_relative_change": relative,
        "latency_p50_corrected_relative_change": corrected_relative,
        "reference_p50_a_ms": reference_a,
        "reference_p50_b_ms": reference_b,
        "latency_p99_a_ms": a.latency.p99_ms,
        "latency_p99_b_ms": b.latency.p99_ms,
        "latency_mannwhitney_p_value": p_value,
        "latency_significant": significant,
    }


def compare_strategy(a: StrategyAnalysis, b: StrategyAnalysis, run_a: RunRecord | None = None,
                     run_b: RunRecord | None = None) -> dict[str, Any]:
    slope_a, ci_a = _slope_of(a)
    slope_b, ci_b = _slope_of(b)
    comparable, why_not = machines_comparable(run_a or RunRecord(), run_b or RunRecord(), _reference_p50(a),
                                              _reference_p50(b))
    return {
        "name": b.name,
        "verdict_a": a.verdict.verdict,
        "verdict_b": b.verdict.verdict,
        "verdict_changed": a.verdict.verdict != b.verdict.verdict,
        "rss_slope_a_bytes_per_iter": slope_a,
        "rss_slope_ci95_a_bytes_per_iter": ci_a,
        "rss_slope_b_bytes_per_iter": slope_b,
        "rss_slope_ci95_b_bytes_per_iter": ci_b,
        "rss_slope_delta_bytes_per_iter": None if slope_a is None or slope_b is None else slope_b - slope_a,
        "rss_slope_significant": bool(ci_a and ci_b and (ci_b[0] > ci_a[1] or ci_b[1] < ci_a[0])),
        **compare_latency(a, b, comparable),
        "latency_comparable": comparable,
        "latency_not_comparable_reason": why_not or None,
        "images_per_s_a": a.latency.images_per_s,
        "images_per_s_b": b.latency.images_per_s,
    }
