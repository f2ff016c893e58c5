"""Theil-Sen interval on serially correlated series: coverage of the true slope, no inflation of white
noise, a magnitude-aware interval on steady growth with rare level jumps, degenerate series, and speed."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from scipy import signal, stats

from leakhunt.analysis import robust
from leakhunt.analysis.robust import SlopeFit, kendall_s_variance, theil_sen

TRUE_SLOPE_BYTES_PER_ITER = 3.0
ITERATIONS_PER_READING = 10.0
NOISE_BYTES = 50.0
PAGE_BYTES = 4096
# The interval is 95%; with a few hundred seeds a correct one lands within a few points of that.
MIN_COVERAGE = 0.89


def ar1_noise(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) noise started in its stationary state (x_t = phi x_{t-1} + e_t, e_t ~ N(0, sigma))."""
    shocks = rng.normal(0, sigma, n)
    shocks[0] /= np.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], shocks)


def trend_plus_ar1(seed: int, n: int, phi: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.arange(n) * ITERATIONS_PER_READING
    return x, 1e6 + TRUE_SLOPE_BYTES_PER_ITER * x + NOISE_BYTES * ar1_noise(rng, n, phi, 1.0)


def covers(fit: SlopeFit, truth: float) -> bool:
    return fit.ci_low <= truth <= fit.ci_high


def scipy_interval(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    result = stats.theilslopes(y, x, alpha=robust.CONFIDENCE_LEVEL)
    return float(result.low_slope), float(result.high_slope)


@pytest.mark.parametrize("phi, n, seeds", [
    (0.0, 100, 400), (0.5, 100, 400), (0.9, 100, 400),
    (0.0, 600, 100), (0.5, 600, 100), (0.9, 600, 100),
])
def test_interval_covers_true_slope_under_ar1_noise(phi, n, seeds):
    # GIVEN a linear trend plus AR(1) noise WHEN fitted over many seeds THEN the 95% interval covers
    # the true slope about 95% of the time, however persistent the noise
    fits = [theil_sen(*trend_plus_ar1(seed, n, phi)) for seed in range(seeds)]
    coverage = np.mean([covers(fit, TRUE_SLOPE_BYTES_PER_ITER) for fit in fits])
    assert coverage >= MIN_COVERAGE, f"phi={phi} n={n}: coverage {coverage:.1%} over {seeds} seeds"
    assert all(np.isfinite([fit.ci_low, fit.ci_high, fit.variance_inflation]).all() for fit in fits)


def test_independent_points_interval_fails_on_persistent_noise_and_the_new_one_is_wider():
    # GIVEN strongly autocorrelated noise (phi = 0.9) WHEN scipy's independent-points interval is used
    # THEN it covers the truth far too rarely, and the corrected interval is wider on every seed
    old_covered, new_covered, wider = [], [], []
    for seed in range(200):
        x, y = trend_plus_ar1(seed, 100, 0.9)
        old_low, old_high = scipy_interval(x, y)
        fit = theil_sen(x, y)
        old_covered.append(old_low <= TRUE_SLOPE_BYTES_PER_ITER <= old_high)
        new_covered.append(covers(fit, TRUE_SLOPE_BYTES_PER_ITER))
        wider.append(fit.ci_high - fit.ci_low > old_high - old_low)
        assert fit.variance_inflation > 1 and fit.effective_points < 100
    old, new = np.mean(old_covered), np.mean(new_covered)
    assert old < 0.6, f"independent-points coverage {old:.1%} (expected far below 95%)"
    assert new >= MIN_COVERAGE, f"corrected coverage {new:.1%} vs {old:.1%} independent-points"
    assert np.mean(wider) >= 0.95, f"wider than scipy's on {np.mean(wider):.0%} of seeds"


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


@pytest.mark.parametrize("n", [100, 300])
def test_white_noise_interval_is_not_inflated(n):
    # GIVEN independent noise WHEN fitted THEN the interval stays about as wide as scipy's
    ratios = []
    for seed in range(60):
        x, y = trend_plus_ar1(1000 + seed, n, 0.0)
        low, high = scipy_interval(x, y)
        fit = theil_sen(x, y)
        ratios.append((fit.ci_high - fit.ci_low) / (high - low))
    ratios = np.array(ratios)
    assert np.median(ratios) <= 1.05, f"median width ratio {np.median(ratios):.2f}"
    assert np.mean(ratios <= 1.3) >= 0.9, f"width ratios: {np.percentile(ratios, [50, 90, 100]).round(2)}"


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


def test_random_walk_plus_trend_gets_a_finite_interval_that_mostly_covers():
    # GIVEN a level that wanders without bound (random walk) on top of a leak WHEN fitted THEN the
    # interval is finite and contains the true slope in most seeds (a random walk's own drift over the
    # run is indistinguishable from a trend, so this is the hardest case; ~80% measured)
    covered = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        n = 300
        x = np.arange(n) * ITERATIONS_PER_READING
        y = 1e6 + TRUE_SLOPE_BYTES_PER_ITER * x + np.cumsum(rng.normal(0, 30.0, n))
        fit = theil_sen(x, y)
        assert np.isfinite([fit.ci_low, fit.ci_high]).all()
        covered.append(covers(fit, TRUE_SLOPE_BYTES_PER_ITER))
    assert np.mean(covered) >= 0.7, f"random walk coverage {np.mean(covered):.1%}"


@pytest.mark.parametrize("slope_bytes_per_iter, noise_bytes", [(400.0, 20_000.0), (40.0, 2_000.0)])
def test_page_quantised_series_gets_a_finite_interval_that_covers(slope_bytes_per_iter, noise_bytes):
    # GIVEN RSS-like readings: whole 4 KiB pages over a trend plus wandering noise (the second case is
    # mostly ties: under a tenth of a page per reading) WHEN fitted THEN the interval is finite and
    # covers the true slope in most seeds
    covered = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        n = 300
        x = np.arange(n) * ITERATIONS_PER_READING
        raw = 600 * 2.0**20 + slope_bytes_per_iter * x + noise_bytes * ar1_noise(rng, n, 0.5, 1.0)
        fit = theil_sen(x, np.floor(raw / PAGE_BYTES) * PAGE_BYTES)
        assert np.isfinite([fit.ci_low, fit.ci_high]).all()
        covered.append(covers(fit, slope_bytes_per_iter))
    assert np.mean(covered) >= MIN_COVERAGE, f"page-quantised coverage {np.mean(covered):.1%}"


# A C heap that grows by an exact 544 B per reading (every 2 iterations) with rare level jumps: the
# readings that jump move by one of these multiples of 544 instead (0, +704, -848, +1296, +2176 bytes).
HEAP_STEP_BYTES = 544.0
HEAP_ITERATIONS_PER_READING = 2.0
PROFILED_JUMP_MULTIPLES = np.array([0, 704, -848, 1296, 2176]) / HEAP_STEP_BYTES
# Jumps of up to ten times the per-reading growth, either way.
TENFOLD_JUMP_MULTIPLES = np.array([0.0, -9.0, 11.0, 6.0, -4.0])


def steady_climb_with_level_jumps(seed: int, jump_rate: float, step_bytes: float = HEAP_STEP_BYTES,
                                  multiples: np.ndarray = PROFILED_JUMP_MULTIPLES) -> tuple[np.ndarray, np.ndarray]:
    """167 readings over 333 iterations, each `step_bytes` above the last except that about `jump_rate` of
    them move by a random one of `multiples` * step_bytes instead (the profiler's reproduction for seed 0)."""
    rng = np.random.default_rng(seed)
    x = np.arange(0, 334, HEAP_ITERATIONS_PER_READING)
    steps = np.full(len(x) - 1, step_bytes)
    jumps = rng.random(len(steps)) < jump_rate
    steps[jumps] = rng.choice(multiples * step_bytes, jumps.sum())
    return x, 50e6 + np.concatenate([[0], np.cumsum(steps)])


PROFILED_SLOPE = HEAP_STEP_BYTES / HEAP_ITERATIONS_PER_READING  # 272 B/iter


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


@pytest.mark.parametrize("jump_rate", [0.02, 0.07, 0.15])
@pytest.mark.parametrize("multiples, max_median_width, min_growth_seen", [
    pytest.param(PROFILED_JUMP_MULTIPLES, 0.5, 0.9, id="profiled-jumps"),
    pytest.param(TENFOLD_JUMP_MULTIPLES, 1.5, 0.5, id="tenfold-jumps"),
])
def test_level_jumps_coverage_and_width(jump_rate, multiples, max_median_width, min_growth_seen):
    # GIVEN steady growth of 64, 544 or 4096 B per reading with level jumps at 2-15% of readings, up to
    # ten times that growth WHEN fitted over many seeds THEN the interval covers the per-reading growth
    # as often as the random-walk test demands or better (measured 87-99%; the jumps add up to a random
    # walk, and the slope itself scatters by ~4% of its value from seed to seed at 7% jumps of the
    # profiled sizes, so no 95% interval can be much narrower than ~17% of the slope), its median width
    # is a fraction of the slope (0.2-0.4 with the profiled jumps, 0.8-1.0 with tenfold ones; the rank
    # interval alone: 3-20) and it excludes 0 (the growth is seen) in most seeds
    covered, widths, growth_seen = [], [], []
    for seed in range(90):
        step = (64.0, 544.0, 4096.0)[seed % 3]
        truth = step / HEAP_ITERATIONS_PER_READING
        fit = theil_sen(*steady_climb_with_level_jumps(seed, jump_rate, step, multiples))
        covered.append(covers(fit, truth))
        widths.append((fit.ci_high - fit.ci_low) / truth)
        growth_seen.append(fit.ci_low > 0)
    assert np.mean(covered) >= 0.85, f"coverage {np.mean(covered):.1%}"
    assert np.median(widths) <= max_median_width, f"median width {np.median(widths):.2f} x the slope"
    assert np.mean(growth_seen) >= min_growth_seen, f"growth seen in {np.mean(growth_seen):.0%} of seeds"


def test_level_jump_interval_scales_with_the_growth():
    # GIVEN the same jump pattern on growth of 64 and of 4096 B per reading WHEN fitted THEN the
    # intervals are the same multiples of the slope (the interval reads sizes relative to each other)
    small = theil_sen(*steady_climb_with_level_jumps(3, 0.07, 64.0))
    large = theil_sen(*steady_climb_with_level_jumps(3, 0.07, 4096.0))
    assert np.array([large.slope, large.ci_low, large.ci_high]) / 4096 == pytest.approx(
        np.array([small.slope, small.ci_low, small.ci_high]) / 64, rel=1e-6)


@pytest.mark.parametrize("make_series", [
    lambda seed: trend_plus_ar1(seed, 100, 0.0), lambda seed: trend_plus_ar1(seed, 100, 0.5),
    lambda seed: trend_plus_ar1(seed, 600, 0.9),
])
def test_value_interval_never_replaces_a_rank_interval_that_resolves_the_slope(make_series, monkeypatch):
    # GIVEN series whose ranks resolve the slope WHEN fitted THEN the interval is the rank interval,
    # exactly (the value interval only stands in for one that has run into the extreme pairwise slopes)
    fits = [theil_sen(*make_series(seed)) for seed in range(60)]
    monkeypatch.setattr(robust, "RANK_TO_VALUE_MAX_WIDTH_RATIO", np.inf)
    assert fits == [theil_sen(*make_series(seed)) for seed in range(60)]


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


def test_600_point_fit_is_fast():
    x, y = trend_plus_ar1(0, 600, 0.9)
    theil_sen(x, y)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        theil_sen(x, y)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.05, f"600-point fit took {min(timings) * 1000:.1f} ms"
