"""Theil-Sen interval: scipy's without the serial correction, a magnitude-aware interval on steady growth with
rare level jumps, degenerate series, and speed. How often it covers the truth over many seeds (serially
correlated, page-quantised, random-walk and level-jump noise) is checked in tests/stats/."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from helpers.slope_series import PAGE_BYTES, PROFILED_SLOPE, steady_climb_with_level_jumps, trend_plus_ar1
from leakhunt.analysis import robust
from leakhunt.analysis.robust import SlopeFit, kendall_s_variance, theil_sen


def test_without_inflation_the_interval_is_scipys():
    # GIVEN the serial correction switched off WHEN fitted THEN slope, intercept and interval are exactly
    # scipy's theilslopes (Sen 1968 with its tie correction): the order statistics are picked the same way
    rng = np.random.default_rng(7)
    original = robust.serial_variance_inflation
    try:
        robust.serial_variance_inflation = lambda residuals: 1.0
        for n in (10, 57, 300):
            x = np.sort(rng.choice(np.arange(3 * n), n, replace=False)).astype(float)
            y = np.floor(rng.normal(0, 3, n) + 0.1 * x)  # ties in y
            fit = theil_sen(x, y)
            expected = stats.theilslopes(y, x, alpha=robust.CONFIDENCE_LEVEL)
            assert [fit.slope, fit.intercept, fit.ci_low, fit.ci_high] == pytest.approx(
                [expected.slope, expected.intercept, expected.low_slope, expected.high_slope])
    finally:
        robust.serial_variance_inflation = original


@pytest.mark.parametrize("x, y", [
    (np.arange(50.0), 3 * np.arange(50.0) + 7),
    (np.arange(600.0), 0.1 * np.arange(600.0) + 1e8),  # float rounding leaves residuals of ~1e-8
    (np.arange(5000.0), 2 * np.arange(5000.0)),  # binned to SLOPE_MAX_POINTS first
    (np.arange(200.0), np.full(200, 600 * 2.0**20)),
    (np.arange(4.0), np.zeros(4)),
    (np.arange(1000.0), np.floor(np.full(1000, 123_456_789.0) / PAGE_BYTES) * PAGE_BYTES),
])
def test_exact_line_or_constant_collapses_without_warnings(x, y):
    # GIVEN a series with no scatter around its line WHEN fitted THEN the interval is the slope itself,
    # finite, and nothing is printed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = theil_sen(x, y)
    true_slope = (y[-1] - y[0]) / (x[-1] - x[0])
    values = [fit.slope, fit.ci_low, fit.ci_high, fit.intercept, fit.variance_inflation, fit.effective_points]
    assert np.isfinite(values).all()
    assert fit.slope == pytest.approx(true_slope, abs=1e-9)
    assert fit.ci_low == pytest.approx(fit.slope, abs=1e-9) and fit.ci_high == pytest.approx(fit.slope, abs=1e-9)
    assert fit.ci_low <= fit.slope <= fit.ci_high


def test_too_few_points_or_one_x_gives_no_fit():
    assert theil_sen(np.arange(3.0), np.arange(3.0)) is None
    assert theil_sen(np.full(10, 5.0), np.arange(10.0)) is None


def test_steady_climb_with_rare_level_jumps_gets_a_narrow_interval_that_excludes_zero(monkeypatch):
    # GIVEN the profiler's C heap: +544 B per reading, a level jump at ~7% of readings, 91 KB of growth
    # against residuals of ~1 KB WHEN fitted THEN the interval is a few percent of the slope around it,
    # not the [-424, +1088] of the rank interval alone (its few effective points order nothing)
    x, y = steady_climb_with_level_jumps(0, 0.07)
    fit = theil_sen(x, y)
    assert fit.slope == pytest.approx(277.3)
    assert fit.ci_low <= PROFILED_SLOPE <= fit.ci_high
    assert fit.ci_high - fit.ci_low < 0.15 * PROFILED_SLOPE, (fit.ci_low, fit.ci_high)  # 263 to 291 measured
    strict = theil_sen(x, y, confidence=0.999)
    assert 0 < strict.ci_low <= fit.ci_low and fit.ci_high <= strict.ci_high
    assert strict.ci_low <= PROFILED_SLOPE <= strict.ci_high

    monkeypatch.setattr(robust, "RANK_TO_VALUE_MAX_WIDTH_RATIO", np.inf)
    ranks_only = theil_sen(x, y)
    assert (ranks_only.ci_low, ranks_only.ci_high) == pytest.approx((-424.0, 1088.0))


def test_level_jump_interval_scales_with_the_growth():
    # GIVEN the same jump pattern on growth of 64 and of 4096 B per reading WHEN fitted THEN the
    # intervals are the same multiples of the slope (the interval reads sizes relative to each other)
    small = theil_sen(*steady_climb_with_level_jumps(3, 0.07, 64.0))
    large = theil_sen(*steady_climb_with_level_jumps(3, 0.07, 4096.0))
    assert np.array([large.slope, large.ci_low, large.ci_high]) / 4096 == pytest.approx(
        np.array([small.slope, small.ci_low, small.ci_high]) / 64, rel=1e-6)


def test_one_outlier_does_not_narrow_the_level_jump_interval():
    # GIVEN the profiled heap with one reading 20 KB off WHEN fitted THEN the interval still covers the
    # growth and is no narrower: the outlier hides the values' autocorrelation, not the ranks', and the
    # larger of the two factors is used
    x, y = steady_climb_with_level_jumps(0, 0.07)
    clean = theil_sen(x, y)
    spiked_y = y.copy()
    spiked_y[80] += 20_000
    spiked = theil_sen(x, spiked_y)
    assert spiked.ci_low <= PROFILED_SLOPE <= spiked.ci_high
    assert spiked.ci_high - spiked.ci_low >= clean.ci_high - clean.ci_low


def test_an_infinite_reading_prints_nothing():
    # GIVEN one infinite reading WHEN fitted THEN no warning (its size cannot be read: the ranks decide)
    x = np.arange(50.0)
    y = 3 * x + np.random.default_rng(0).normal(0, 1, 50)
    y[10] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = theil_sen(x, y)
    assert np.isfinite([fit.slope, fit.ci_low, fit.ci_high]).all()


def test_kendall_variance_tie_correction():
    # No ties: n(n-1)(2n+5)/18. All y tied: S is always 0, so is its variance (never negative).
    x = np.arange(20.0)
    assert kendall_s_variance(x, x**2) == pytest.approx(20 * 19 * 45 / 18)
    assert kendall_s_variance(x, np.zeros(20)) == 0.0
    # Ties in y only: Sen's eq. 2.6, minus t(t-1)(2t+5)/18 per group of t equal values.
    y = np.array([0, 0, 0] + list(range(1, 18)), dtype=float)
    assert kendall_s_variance(x, y) == pytest.approx((20 * 19 * 45 - 3 * 2 * 11) / 18)


def test_order_of_the_points_does_not_matter():
    x, y = trend_plus_ar1(3, 200, 0.7)
    shuffled = np.random.default_rng(0).permutation(len(x))
    assert theil_sen(x[shuffled], y[shuffled]) == theil_sen(x, y)


def test_slope_fit_keeps_its_old_constructor():
    fit = SlopeFit(1.0, 0.5, 1.5, 0.0, 10)
    assert fit.variance_inflation == 1.0 and fit.effective_points is None
